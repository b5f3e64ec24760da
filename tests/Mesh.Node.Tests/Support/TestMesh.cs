using Akka.Cluster;
using Akka.Configuration;
using Mesh.Node.Api;
using Mesh.Node.Configuration;

namespace Mesh.Node.Tests.Support;

/// <summary>
/// Several real Mesh nodes (one ActorSystem each) in this process, on loopback with ports
/// the OS picks, each with its own data directory and root. Disposed, they leave the
/// cluster and their directories go away.
/// </summary>
public sealed class TestMesh : IAsyncDisposable
{
    private readonly List<MeshNode> _nodes = [];
    private readonly TempDir _dir = new();

    public IReadOnlyList<MeshNode> Nodes => _nodes;

    public MeshNode Start(string name, string[]? roles = null, IReadOnlyDictionary<string, string>? labels = null,
        bool announce = true, MeshNode? seed = null, string extraHocon = "", string? dataDir = null)
    {
        var seedAddress = (seed ?? _nodes.FirstOrDefault())?.Cluster.SelfAddress.ToString();
        var hocon = $$"""
            mesh {
              name = "{{name}}"
              host = "127.0.0.1"
              port = 0
              api = "127.0.0.1:0"
              data-dir = "{{_dir[dataDir ?? name]}}"
              announce = {{(announce ? "on" : "off")}}
              roles = [{{string.Join(", ", (roles ?? []).Select(r => $"\"{r}\""))}}]
              labels { {{string.Join("\n", (labels ?? new Dictionary<string, string>()).Select(l => $"\"{l.Key}\" = \"{l.Value}\""))}} }
              seeds = [{{(seedAddress is null ? "" : $"\"{seedAddress}\"")}}]
            }
            akka.loglevel = WARNING
            {{extraHocon}}
            """;
        var node = MeshNode.Start(ConfigurationFactory.ParseString(hocon).WithFallback(NodeConfig.Embedded()));
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// Starts a node whose control API listens on <paramref name="host"/> at a free port, waits
    /// until the mesh has converged, and starts the API, with a client that reaches it on loopback.
    /// </summary>
    public async Task<RunningApi> StartWithApi(string name, string host = "127.0.0.1")
    {
        var port = Ports.Free();
        var node = Start(name, extraHocon: $"mesh.api = \"{host}:{port}\"");
        await Converged();
        return new RunningApi(node, await ControlApi.StartAsync(node), new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") });
    }

    /// <summary>Waits until every running node sees every running node up (a stopped one, restarted under its name, counts once).</summary>
    public Task Converged()
    {
        var running = _nodes.Where(x => !x.System.WhenTerminated.IsCompleted).ToArray();
        return Eventually.True(
            () => running.All(n => n.Cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == running.Length),
            $"{running.Length} nodes up on every node");
    }

    public string RootOf(MeshNode node, string path) => Path.Combine(node.Settings.Root, path.TrimStart('/'));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(async n =>
        {
            if (!n.System.WhenTerminated.IsCompleted) await n.DisposeAsync();
        }));
        _dir.Dispose();
    }
}
