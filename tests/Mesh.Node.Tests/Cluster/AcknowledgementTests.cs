using System.Text;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Tests.Cluster;

/// <summary>A change is acknowledged only once its quorum holds its body and its record; otherwise the node says so and lists it until it is replicated.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AcknowledgementTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Site(string text, AckLevel? ack = null) =>
        new([new ManifestFile("site.yaml", "manifest: site\nresources:\n  - { id: page, type: file, path: /page, source: page.html }\n",
            new() { ["page.html"] = Encoding.UTF8.GetBytes(text) })], text, "tester", Ack: ack);

    private static string[] BlobsOf(PushRequest push)
    {
        var prepared = PreparedManifest.PrepareAll(push.Manifests).Single();
        return prepared.Attachments.Values.Select(b => CanonicalForm.Hash(b)).Append(prepared.Hash).ToArray();
    }

    [Fact]
    public async Task A_push_through_one_of_three_nodes_answers_success_only_when_another_node_holds_its_body_and_record()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var push = Site("replicated before the answer");

        var answer = await a.Revisions.PushAsync(push);

        // Read at once, no waiting: what the answer promises is already true.
        var record = answer.Revisions[0].Revision;
        Assert.Equal((AckLevel.Majority, true, null), (answer.Ack!.Wanted, answer.Ack.Reached, answer.Ack.Reason));
        var holders = new[] { b, c }.Where(n => answer.Ack.HeldBy.Contains(n.Settings.Name)).ToArray();
        Assert.NotEmpty(holders);
        foreach (var holder in holders)
            Assert.All(BlobsOf(push), hash => Assert.True(holder.Content.Contains(hash), $"{holder.Settings.Name} holds {hash}"));
        var heads = await Task.WhenAll(new[] { b, c }.Select(n => n.Store.HeadAsync("site")));
        Assert.Contains(heads, h => h?.Version == record.Version);
        var histories = await Task.WhenAll(new[] { b, c }.Select(n => n.Store.HistoryAsync("site")));
        Assert.Contains(histories, h => h.Any(r => r.Version == record.Version));
        Assert.Empty((await a.Queries.StatusAsync(null)).Unreplicated!);
    }

    [Fact]
    public async Task A_deletion_is_acknowledged_once_a_majority_holds_the_tombstone()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        var c = _mesh.Start("c");
        await _mesh.Converged();
        var head = (await a.Revisions.PushAsync(Site("to be deleted"))).Revisions[0].Revision;

        var deleted = (await b.Revisions.DeleteAsync("site", new DeleteRequest(head.Version.ToString(), "retired", "tester")))!;

        Assert.True(deleted.Ack!.Reached);
        var heads = await Task.WhenAll(new[] { a, c }.Select(n => n.Store.HeadAsync("site")));
        Assert.Contains(heads, h => h is { Deleted: true } && h.Version == deleted.Revisions[0].Revision.Version);
    }

    [Fact]
    public async Task A_mesh_of_one_is_its_own_majority()
    {
        var solo = _mesh.Start("solo");
        await _mesh.Converged();
        await Eventually.Value(async () => await solo.Queries.StatusAsync(null) is { Offline: false } s ? s : null, "solo online");

        var answer = await solo.Revisions.PushAsync(Site("alone by design"));

        Assert.Equal((AckLevel.Majority, true, null), (answer.Ack!.Wanted, answer.Ack.Reached, answer.Ack.Reason));
        Assert.Empty(answer.Ack.HeldBy);
        Assert.Empty((await solo.Queries.StatusAsync(null)).Unreplicated!);
    }

    [Fact]
    public async Task A_node_not_yet_a_member_accepts_a_push_but_says_it_is_not_replicated_and_ack_local_does_not_ask()
    {
        // Port 9 (discard) on loopback: nothing of ours listens there, so the node never joins.
        var lonely = _mesh.Start("lonely", extraHocon: """mesh.seeds = ["akka.tcp://mesh@127.0.0.1:9"]""");

        var answer = await lonely.Revisions.PushAsync(Site("before joining"));

        Assert.False(answer.Ack!.Reached);
        Assert.Contains("not a member", answer.Ack.Reason);
        Assert.NotNull(await lonely.Store.HeadAsync("site"));
        var listed = Assert.Single((await lonely.Queries.StatusAsync(null)).Unreplicated!);
        Assert.Equal(answer.Revisions[0].Revision.Version.ToString(), listed.Version);

        var local = await lonely.Revisions.PushAsync(Site("local is enough", AckLevel.Local));
        Assert.Equal((AckLevel.Local, true, null), (local.Ack!.Wanted, local.Ack.Reached, local.Ack.Reason));
    }

    [Fact]
    public async Task A_node_whose_peers_left_accepts_a_push_as_not_replicated_and_lists_it_until_a_new_peer_holds_it()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        await b.DisposeAsync();
        await Eventually.Value(async () => await a.Queries.StatusAsync(null) is { Offline: true } s ? s : null, "a notices it is alone");
        var push = Site("while alone");

        var answer = await a.Revisions.PushAsync(push);

        Assert.False(answer.Ack!.Reached);
        Assert.Equal(Connectivity.Alone, answer.Ack.Reason);
        var listed = Assert.Single((await a.Queries.StatusAsync(null)).Unreplicated!);
        Assert.Equal(("site", answer.Revisions[0].Revision.Version.ToString(), Connectivity.Alone), (listed.Manifest, listed.Version, listed.Reason));
        var other = await a.Revisions.PushAsync(new PushRequest([new ManifestFile("gone.yaml", "manifest: gone\nresources:\n  - { id: g, type: file, path: /gone, content: \"x\" }\n")], null, "tester"));
        var deleted = (await a.Revisions.DeleteAsync("gone", new DeleteRequest(other.Revisions[0].Revision.Version.ToString(), null, "tester")))!;
        Assert.Equal((false, Connectivity.Alone), (deleted.Ack!.Reached, deleted.Ack.Reason));
        Assert.Equal(3, (await a.Queries.StatusAsync(null)).Unreplicated!.Length);

        var b2 = _mesh.Start("b2", seed: a);
        await Eventually.Value(async () => await a.Queries.StatusAsync(null) is { Unreplicated: [] } s ? s : null,
            "the revisions leave the list once b2 holds them", TimeSpan.FromSeconds(60));
        Assert.All(BlobsOf(push), hash => Assert.True(b2.Content.Contains(hash), $"b2 holds {hash}"));
        Assert.Equal(answer.Revisions[0].Revision.Version, (await b2.Store.HeadAsync("site"))?.Version);
        Assert.Equal(deleted.Revisions[0].Revision.Version, (await b2.Store.HeadAsync("gone"))?.Version);
    }

    [Theory]
    [InlineData(AckLevel.Majority, 1, 0)]
    [InlineData(AckLevel.Majority, 2, 1)]
    [InlineData(AckLevel.Majority, 3, 1)]
    [InlineData(AckLevel.Majority, 4, 2)]
    [InlineData(AckLevel.Majority, 25, 12)]
    [InlineData(AckLevel.All, 3, 2)]
    [InlineData(AckLevel.Local, 5, 0)]
    public void The_quorum_is_counted_over_the_up_members_as_DData_counts_a_majority(AckLevel level, int members, int needed)
    {
        var quorum = AckQuorum.Of(level, selfUp: true, offlineReason: null, members, reachableOthers: members - 1);
        Assert.Equal(needed, quorum.Needed);
        Assert.Null(quorum.Unreachable);
    }

    [Fact]
    public void A_quorum_the_reachable_members_cannot_make_is_known_before_anything_is_sent()
    {
        Assert.Equal("only 1 of the 4 other member(s) reachable, 2 needed for a majority",
            AckQuorum.Of(AckLevel.Majority, true, null, 5, 1).Unreachable);
        Assert.Contains("not a member", AckQuorum.Of(AckLevel.Majority, false, Connectivity.NotJoined, 0, 0).Unreachable);
        Assert.Equal(Connectivity.NoPeerReachable, AckQuorum.Of(AckLevel.All, true, Connectivity.NoPeerReachable, 3, 0).Unreachable);
        Assert.Null(AckQuorum.Of(AckLevel.Local, false, Connectivity.NotJoined, 0, 0).Unreachable);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
