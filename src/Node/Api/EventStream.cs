using System.Text.Json;
using System.Threading.Channels;
using Mesh.Protocol.Api;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Api;

/// <summary>
/// <c>GET /v1/events</c>: the node's live events as server-sent events (<c>event: report</c>,
/// <c>data: {json}</c>), until the client goes away.
/// </summary>
public static class EventStream
{
    /// <param name="events">Already registered with the node's event hub, so nothing after the headers' flush is missed.</param>
    public static async Task ServeAsync(HttpContext context, ChannelReader<MeshEvent> events)
    {
        var cancel = context.RequestAborted;
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Flushing the headers tells the client it is subscribed: anything after this is delivered.
        await response.Body.FlushAsync(cancel);
        try
        {
            await foreach (var e in events.ReadAllAsync(cancel))
            {
                await response.WriteAsync($"event: {e.Kind}\ndata: {JsonSerializer.Serialize(e, ApiJson.Options)}\n\n", cancel);
                await response.Body.FlushAsync(cancel);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }
}
