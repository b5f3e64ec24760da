using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mesh.Node.Api;

/// <summary>
/// <c>GET /metrics</c>: the node's metrics (<see cref="Observability.MeshMetrics"/>) in Prometheus'
/// text format. Outside <c>/v1/</c>, where Prometheus looks by default; behind the same token
/// rule as every other route.
/// </summary>
public static class MetricsEndpoint
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void Map(IEndpointRouteBuilder app, MeshNode node) =>
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            context.Response.ContentType = ContentType;
            await node.Metrics.WriteAsync(context.Response.Body, context.RequestAborted);
        });
}
