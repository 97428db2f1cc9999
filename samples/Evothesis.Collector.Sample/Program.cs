using System.Security.Cryptography;
using System.Text;
using Evothesis.Collector.Sample.Pixel;

var builder = WebApplication.CreateBuilder(args);

// The seed's curl examples use http://localhost:8000; --urls or ASPNETCORE_URLS still win.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://localhost:8000");
}

builder.Services.AddEvothesisCollector(builder.Configuration.GetSection("Evothesis"));
builder.Services.AddHealthChecks().AddEvothesisCollector();
builder.Services.AddOptions<PixelOptions>()
    .BindConfiguration(PixelOptions.SectionName)
    .ValidateDataAnnotations()
    .Validate(
        o => o.FlushInterval >= TimeSpan.FromMilliseconds(50) && o.FlushInterval <= TimeSpan.FromMinutes(10),
        $"{PixelOptions.SectionName}:FlushInterval must be from 50 milliseconds to 10 minutes.")
    .ValidateOnStart();

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

// The demo integration site (testing/) at /, and the development pixel its pages load: Development only
// unless Sample:DemoSite:Enabled / Sample:Pixel:Enabled say otherwise.
app.UseDemoSite();

const string collectPath = "/collect";
app.MapEvothesisCollector(collectPath);
if (app.Environment.IsDevelopment() || !string.IsNullOrEmpty(adminKey))
{
    app.MapEvothesisRecentEvents();
}

if (app.Configuration.GetValue<bool?>($"{PixelOptions.SectionName}:Enabled") ?? app.Environment.IsDevelopment())
{
    app.MapDevelopmentPixel(collectPath);
}

app.MapHealthChecks("/health");

app.Run();

/// <summary>The sample host's entry point, visible to integration tests.</summary>
public partial class Program;
