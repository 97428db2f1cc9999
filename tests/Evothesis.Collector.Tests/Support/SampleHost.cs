using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Evothesis.Collector.Tests.Support;

/// <summary>
/// The sample host in memory, storing into a temporary folder, with every log record captured (all levels and
/// categories). Requests can set the connection's peer address, as a socket would. Runs in Development unless told
/// otherwise; services can be replaced.
/// </summary>
public sealed class SampleHost : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;

    public SampleHost(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string environment = "Development")
    {
        StoragePath = Path.Combine(Path.GetTempPath(), "evothesis-sample-" + Guid.NewGuid().ToString("N"));
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment(environment);
            if (services is not null)
            {
                builder.ConfigureTestServices(services);
            }

            builder.UseSetting("Evothesis:Storage:Path", StoragePath);
            // Answered once every sink has the events, so a test reads the stores right after the answer.
            builder.UseSetting("Evothesis:Batching:AckMode", "Committed");
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging =>
            {
                logging.AddFakeLogging();
                logging.AddFilter<FakeLoggerProvider>(_ => true);
            });
        });
    }

    public string StoragePath { get; }

    public IServiceProvider Services => _factory.Services;

    public FakeLogCollector Logs => _factory.Services.GetFakeLogCollector();

    public async Task<Response> SendAsync(
        string method,
        string pathAndQuery,
        IPAddress? peer = null,
        string? body = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var context = await _factory.Server.SendAsync(c =>
        {
            c.Request.Method = method;
            var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = query < 0 ? pathAndQuery : pathAndQuery[..query];
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(pathAndQuery[query..]);
            c.Connection.RemoteIpAddress = peer;
            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                c.Request.Headers[name] = value;
            }

            if (body is not null)
            {
                var bytes = Encoding.UTF8.GetBytes(body);
                c.Request.ContentType = "application/json";
                c.Request.ContentLength = bytes.Length;
                c.Request.Body = new MemoryStream(bytes);
            }
        });

        using var reader = new StreamReader(context.Response.Body);
        return new Response(context.Response.StatusCode, await reader.ReadToEndAsync(), context.Response.Headers);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (Directory.Exists(StoragePath))
        {
            Directory.Delete(StoragePath, recursive: true);
        }
    }

    public sealed record Response(int StatusCode, string Body, IHeaderDictionary Headers);
}
