using System.Net;
using System.Text;
using static Mesh.Cli.Tests.InProcessCli;

namespace Mesh.Cli.Tests;

/// <summary>A node that answers 503 (busy) is asked once more, and the user is told so.</summary>
public sealed class BusyNodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-busy-").FullName;

    /// <summary>
    /// A stand-in for a node's control API on a free loopback port: answers GET v1/manifests with
    /// none, and each POST v1/push with the next status of <paramref name="pushAnswers"/>. Counts the pushes.
    /// </summary>
    private sealed class FakeNode : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;
        private int _pushes;

        public FakeNode(params int[] pushAnswers)
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
                    var path = context.Request.Url!.AbsolutePath;
                    var (status, body) = path == "/v1/push"
                        ? pushAnswers[Math.Min(Interlocked.Increment(ref _pushes) - 1, pushAnswers.Length - 1)] switch
                        {
                            200 => (200, """{"revisions":[]}"""),
                            var s => (s, """{"error":"the node's replicated store did not answer within 15s about mesh-index-3 (node overloaded? mesh.store.timeout); retry the request"}"""),
                        }
                        : path == "/v1/manifests" ? (200, "[]") : (404, """{"error":"no such endpoint"}""");
                    context.Response.StatusCode = status;
                    context.Response.ContentType = "application/json";
                    var bytes = Encoding.UTF8.GetBytes(body);
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string Api { get; }
        public int Pushes => Volatile.Read(ref _pushes);

        public void Dispose()
        {
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(10));
        }
    }

    private string Manifest()
    {
        var path = Path.Combine(_dir, "motd.yaml");
        File.WriteAllText(path, "manifest: motd\nresources:\n  - { id: motd, type: file, path: /motd, content: hi }\n");
        return path;
    }

    [Fact]
    public async Task A_push_answered_503_is_sent_once_more_and_succeeds_saying_so_on_stderr()
    {
        using var node = new FakeNode(503, 200);

        var (code, _, err) = await Run("--api", node.Api, "push", Manifest());

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(2, node.Pushes);
        Assert.Contains("node busy (503): the node's replicated store did not answer within 15s", err);
        Assert.Contains("retrying once", err);
    }

    [Fact]
    public async Task A_node_still_busy_the_second_time_fails_the_push_with_its_reason_and_is_not_asked_a_third_time()
    {
        using var node = new FakeNode(503, 503, 200);

        var (code, _, err) = await Run("--api", node.Api, "push", Manifest());

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(2, node.Pushes);
        Assert.Contains("did not answer within 15s", err);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
