using Mesh.Node.Membership;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

/// <summary>A node with no reachable peer says it is offline, and since when, and keeps enforcing what it knows.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OfflineTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Motd(string text) =>
        new([new ManifestFile("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\" }}\n")], "test", "tester");

    [Fact]
    public async Task A_node_started_without_seeds_is_a_mesh_of_one_not_offline()
    {
        var solo = _mesh.Start("solo");
        await _mesh.Converged();

        var status = await Eventually.Value(async () => await solo.Queries.StatusAsync(null) is { Offline: false } s ? s : null, "solo online");

        Assert.Equal("solo", status.Node);
        Assert.Null(status.OfflineSince);
        Assert.Null(status.OfflineReason);
    }

    [Fact]
    public async Task A_node_whose_seeds_do_not_answer_is_offline_and_still_applies_what_it_is_given()
    {
        var before = DateTimeOffset.UtcNow;
        // Port 9 (discard) on loopback: nothing of ours listens there.
        var lonely = _mesh.Start("lonely", extraHocon: """mesh.seeds = ["akka.tcp://mesh@127.0.0.1:9"]""");

        await lonely.Revisions.PushAsync(Motd("while offline"));

        var status = await Eventually.Value(async () => await lonely.Queries.StatusAsync(null) is { Manifests: [{ State: "ok" }] } s ? s : null,
            "the offline node applies the push it took and reports on itself");
        Assert.True(status.Offline);
        Assert.Equal(Connectivity.NotJoined, status.OfflineReason);
        Assert.InRange(status.OfflineSince!.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow);
        Assert.Equal("lonely", status.Manifests[0].Node);
        Assert.Equal("while offline", File.ReadAllText(_mesh.RootOf(lonely, "/motd")));
    }

    [Fact]
    public async Task A_node_whose_peers_left_is_offline_since_then_and_online_again_when_a_peer_joins()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        Assert.False((await a.Queries.StatusAsync(null)).Offline);

        var left = DateTimeOffset.UtcNow;
        await b.DisposeAsync();

        var offline = await Eventually.Value(async () => await a.Queries.StatusAsync(null) is { Offline: true } s ? s : null, "a notices it is alone");
        Assert.Equal(Connectivity.Alone, offline.OfflineReason);
        Assert.InRange(offline.OfflineSince!.Value, left.AddSeconds(-1), DateTimeOffset.UtcNow);

        _mesh.Start("b2", seed: a);
        await Eventually.Value(async () => await a.Queries.StatusAsync(null) is { Offline: false } s ? s : null, "a is online again once b2 joined");
    }

    [Fact]
    public void A_new_incarnation_stays_offline_since_its_predecessor_lost_its_peers_and_knows_them()
    {
        var lostPeers = DateTimeOffset.UtcNow.AddMinutes(-3);
        var previous = new Connectivity(lostPeers.AddMinutes(-10));
        previous.SawPeer(new Akka.Actor.Address("akka.tcp", "mesh", "10.0.0.2", 4710));
        Assert.Null(previous.Observe(null, 1, lostPeers.AddMinutes(-9)));
        Assert.NotNull(previous.Observe(Connectivity.NoPeerReachable, 0, lostPeers));

        var next = new Connectivity(DateTimeOffset.UtcNow);
        next.Inherit(previous);

        Assert.Equal(new ConnectivityState(true, lostPeers, Connectivity.NotJoined), next.Current);
        Assert.Equal(previous.KnownPeers, next.KnownPeers);
        // Its predecessor said it went offline: no second line when the join takes long, one when it is back.
        Assert.Null(next.StillJoining());
        Assert.Contains($"offline since {lostPeers:u}", next.Observe(null, 2, DateTimeOffset.UtcNow));
        Assert.Equal(new ConnectivityState(false, null, null), next.Current);
    }

    [Fact]
    public void A_start_that_joins_at_once_logs_nothing_and_one_that_does_not_says_so_once()
    {
        var quick = new Connectivity(DateTimeOffset.UtcNow);
        Assert.Null(quick.Observe(null, 1, DateTimeOffset.UtcNow));
        Assert.Null(quick.StillJoining());

        var slow = new Connectivity(DateTimeOffset.UtcNow);
        Assert.Null(slow.Observe(Connectivity.NotJoined, 0, DateTimeOffset.UtcNow));
        Assert.Contains(Connectivity.NotJoined, slow.StillJoining());
        Assert.Null(slow.StillJoining());
        Assert.StartsWith("online again", slow.Observe(null, 1, DateTimeOffset.UtcNow));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
