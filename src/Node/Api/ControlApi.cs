using Mesh.Protocol.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Node.Api;

/// <summary>
/// The control API: HTTP+JSON under <c>/v1/</c>, the only door the CLI (and scripts) use.
/// Loopback by default. This file is the host: Kestrel, then in order the one error mapping
/// (<see cref="ApiErrors"/>), the token check (<see cref="ApiToken"/>), the route table
/// (<see cref="Routes"/>), <c>GET /metrics</c> (<see cref="MetricsEndpoint"/>) and the web
/// dashboard at <c>/</c> (<see cref="Dashboard"/>).
/// </summary>
public static class ControlApi
{
    /// <summary>Largest request body accepted: a push of manifests, inline content included.</summary>
    public const long MaxBodyBytes = ApiJson.MaxBodyBytes;

    public static async Task<WebApplication> StartAsync(MeshNode node)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Under journald: "<4>category message", the priority journald files it under, no timestamp.
        if (Service.Journal.Active) builder.Logging.AddSystemdConsole().SetMinimumLevel(LogLevel.Warning);
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(node.Settings.Api);
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        // A query value that does not bind (?limit=abc, a missing ?to=) throws, so that the
        // error mapping can say which parameter, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        var app = builder.Build();
        app.Use(ApiErrors.Middleware(app.Logger));
        app.UseStatusCodePages(ApiErrors.EmptyAnswer);
        if (ApiToken.For(node.Settings.Api, node.Settings.DataDir) is { } token) app.Use(ApiToken.Middleware(token, node.Settings.DataDir));
        Routes.Map(app.MapGroup("/v1"), node);
        Routes.MapProbes(app, node);
        MetricsEndpoint.Map(app, node);
        Dashboard.Map(app);
        await app.StartAsync();
        return app;
    }
}
