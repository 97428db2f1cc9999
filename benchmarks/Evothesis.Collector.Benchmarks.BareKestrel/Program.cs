// The ceiling the load run compares the collector with: the same Kestrel, the same logging level, a handler that reads
// the whole body and answers 202 with a small JSON body, as /collect does, and no other work.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

var accepted = "{\"accepted\":1,\"rejected\":[]}"u8.ToArray();
app.MapPost("/collect", async (HttpContext context) =>
{
    var reader = context.Request.BodyReader;
    while (true)
    {
        var result = await reader.ReadAsync(context.RequestAborted);
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }

    context.Response.StatusCode = StatusCodes.Status202Accepted;
    context.Response.ContentType = "application/json";
    context.Response.ContentLength = accepted.Length;
    await context.Response.Body.WriteAsync(accepted, context.RequestAborted);
});
app.MapGet("/health", () => Results.Ok());

app.Run();
