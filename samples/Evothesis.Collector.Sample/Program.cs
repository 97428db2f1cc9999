using System.Security.Cryptography;
using System.Text;

var builder = WebApplication.CreateBuilder(args);

// The seed's curl examples use http://localhost:8000; --urls or ASPNETCORE_URLS still win.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://localhost:8000");
}

var collector = builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis"));

// With a PostgreSQL connection string (ConnectionStrings__Evothesis) events go to PostgreSQL, and /events/recent
// reads them from there; without one they go to local files.
if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Evothesis")))
{
    collector.AddPostgreSqlSink();
}

builder.Services.AddHealthChecks().AddEvothesisCollector();

var app = builder.Build();

// /events/recent shows every client's events: only in Development, or to callers presenting the admin key
// (Sample:AdminKey, sent as X-Admin-Key). With a key configured, Development requires it too.
var adminKey = app.Configuration["Sample:AdminKey"];
if (!string.IsNullOrEmpty(adminKey))
{
    var expected = Encoding.UTF8.GetBytes(adminKey);
    app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/events/recent")
            && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers["X-Admin-Key"].ToString()), expected))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        await next(context);
    });
}

app.MapEvothesisCollector();
if (app.Environment.IsDevelopment() || !string.IsNullOrEmpty(adminKey))
{
    app.MapEvothesisRecentEvents();
}

app.MapHealthChecks("/health");

app.Run();

/// <summary>The sample host's entry point, visible to integration tests.</summary>
public partial class Program;
