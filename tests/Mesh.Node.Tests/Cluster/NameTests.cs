using Akka.Cluster;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Cluster;

/// <summary>A name is one node: a second member under a name already held is refused, on both sides.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NameTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    [Fact]
    public async Task Of_two_nodes_joining_under_one_name_at_once_one_is_refused_and_stops_and_the_mesh_keeps_the_other()
    {
        var a = _mesh.Start("a");
        await _mesh.Converged();
        var log = new LogWatch(a.System);

        // Both ask before either has joined, or one asks once the other has: either way one keeps the name.
        var one = _mesh.Start("dup", dataDir: "dup-1");
        var two = _mesh.Start("dup", dataDir: "dup-2");
        var logs = new Dictionary<MeshNode, LogWatch> { [one] = new(one.System), [two] = new(two.System) };

        try
        {
            await Eventually.True(() => one.NameRefusal.Reason is not null || two.NameRefusal.Reason is not null, "one of the two is refused", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            // What each node saw, for the failure to say why.
            string Seen(MeshNode node, LogWatch? watch) =>
                $"{node.Cluster.SelfAddress} terminated={node.System.WhenTerminated.IsCompleted} members=[{string.Join(", ", node.Cluster.State.Members.Select(m => $"{m.Address.Port}:{m.Status}"))}] " +
                $"unreachable=[{string.Join(", ", node.Cluster.State.Unreachable.Select(m => m.Address.Port))}]" +
                (watch is null ? "" : $"\n  warnings: {string.Join("\n    ", watch.Warnings)}\n  errors: {string.Join("\n    ", watch.Errors)}");
            throw new TimeoutException($"{e.Message}\na: {Seen(a, log)}\none: {Seen(one, logs[one])}\ntwo: {Seen(two, logs[two])}", e);
        }
        var (refused, kept) = one.NameRefusal.Reason is not null ? (one, two) : (two, one);
        Assert.Null(kept.NameRefusal.Reason);
        Assert.Contains("the name 'dup' is already used by the member at " + kept.Cluster.SelfAddress, refused.NameRefusal.Reason);
        await refused.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));

        await Eventually.True(() => a.Cluster.State.Members.Any(m => m.Address.Equals(kept.Cluster.SelfAddress) && m.Status == MemberStatus.Up)
            && a.Cluster.State.Members.All(m => !m.Address.Equals(refused.Cluster.SelfAddress)),
            "the mesh keeps the node that holds the name, and not the refused one", TimeSpan.FromSeconds(60));
        // Whichever way it went (the seed refused it, the members downed it, or it found out first and left), a node of the mesh says so.
        await Eventually.True(() => new[] { log, logs[kept] }.SelectMany(l => l.Errors).Any(e => e.Contains("refused", StringComparison.Ordinal)
            && e.Contains(refused.Cluster.SelfAddress.ToString(), StringComparison.Ordinal) && e.Contains("'dup'", StringComparison.Ordinal)),
            "the mesh logs the refusal, naming the refused node's address");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
