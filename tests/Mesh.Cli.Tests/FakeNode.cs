using System.Net;
using System.Text;
using System.Text.Json;
using Mesh.Protocol.Api;
using static Mesh.Cli.Tests.InProcessCli;

namespace Mesh.Cli.Tests;

/// <summary>
/// A stand-in for a node's control API on a free loopback port: answers GET v1/manifests with
/// none, GET v1/status with <paramref name="status"/> (default: no rows), GET v1/events with
/// <paramref name="events"/> (server-sent, then holds the stream open), and each POST v1/push with
/// the next status of <paramref name="pushAnswers"/> (200: <paramref name="pushed"/>). Counts the
/// pushes, and keeps the query of the last status asked for.
/// </summary>
public sealed class FakeNode : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly TaskCompletionSource _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pushes;

    public FakeNode(int[] pushAnswers, PushResponse? pushed = null, MeshEvent[]? events = null, StatusReport? status = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            // A port the OS just handed out and nobody listens on (HttpListener cannot take port 0).
            Api = DeadApi();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://{Api}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                // Taken in the meantime: another port.
            }
        }
        _serving = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(() => AnswerAsync(context, pushAnswers, pushed, events, status));
            }
        });
    }

    private async Task AnswerAsync(HttpListenerContext context, int[] pushAnswers, PushResponse? pushed, MeshEvent[]? events, StatusReport? status)
    {
        try
        {
            var path = context.Request.Url!.AbsolutePath;
            if (path == "/v1/events")
            {
                context.Response.ContentType = "text/event-stream";
                var stream = string.Concat((events ?? []).Select(e => $"event: {e.Kind}\ndata: {JsonSerializer.Serialize(e, ApiJson.Options)}\n\n"));
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(stream));
                await context.Response.OutputStream.FlushAsync();
                await _closing.Task;
                return;
            }
            if (path == "/v1/status") StatusQuery = context.Request.Url.Query;
            var (code, body) = path == "/v1/push"
                ? pushAnswers[Math.Min(Interlocked.Increment(ref _pushes) - 1, pushAnswers.Length - 1)] switch
                {
                    200 => (200, JsonSerializer.Serialize(pushed ?? new PushResponse([]), ApiJson.Options)),
                    var s => (s, """{"error":"the node's replicated store did not answer within 15s about mesh-index-3 (node overloaded? mesh.store.timeout); retry the request"}"""),
                }
                : path == "/v1/manifests" ? (200, "[]")
                : path == "/v1/status" ? (200, JsonSerializer.Serialize(status ?? new StatusReport("a", false, null, null, [], []), ApiJson.Options))
                : (404, """{"error":"no such endpoint"}""");
            context.Response.StatusCode = code;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The client went away.
        }
    }

    public string Api { get; }
    public int Pushes => Volatile.Read(ref _pushes);

    /// <summary>The query string of the last GET v1/status ("" when it had none), null before one.</summary>
    public string? StatusQuery { get; private set; }

    public void Dispose()
    {
        _closing.TrySetResult();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(10));
    }
}
