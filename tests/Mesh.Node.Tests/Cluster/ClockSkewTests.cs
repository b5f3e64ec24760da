using Akka.Actor;
using Akka.DistributedData;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A node whose clock is minutes off does not win (or lose) concurrent pushes for as long as
/// its clock is off: once the others' clocks tell it so, it stamps with the majority's time,
/// the skew is shown, and history stays causal.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClockSkewTests : IAsyncLifetime
{
    private static readonly TimeSpan FiveMinutes = TimeSpan.FromMinutes(5);
    private readonly TestMesh _mesh = new();

    /// <summary>Three nodes, announcements off (a concurrent write is seen only through the replicated index); "skewed" has its clock shifted.</summary>
    private async Task<(MeshNode Skewed, MeshNode B, MeshNode C)> StartAsync(TimeSpan shift)
    {
        const string Probes = "mesh.clock.probe-interval = 500ms";
        var skewed = _mesh.Start("skewed", announce: false, extraHocon: $"{Probes}\nmesh.clock.offset = {(shift < TimeSpan.Zero ? "-" : "")}{Math.Abs(shift.TotalSeconds)}s");
        var b = _mesh.Start("b", announce: false, extraHocon: Probes);
        var c = _mesh.Start("c", announce: false, extraHocon: Probes);
        await _mesh.Converged();
        return (skewed, b, c);
    }

    /// <summary>A revision of "race" stamped now by <paramref name="writer"/>'s own clock, as a push that saw no head.</summary>
    private RevisionRecord Stamp(MeshNode writer, string content)
    {
        var manifest = ManifestParser.Parse($"manifest: race\nresources:\n  - {{ id: f, type: file, path: /race, content: \"{content}\" }}\n", "race.yaml");
        var bytes = CanonicalForm.ToBytes(manifest);
        foreach (var node in _mesh.Nodes) node.Content.Put(bytes);
        return new RevisionRecord("race", writer.Clock.Now(), CanonicalForm.Hash(bytes), bytes.Length, "tester", writer.Settings.Name,
            writer.Cluster.SelfAddress.ToString(), DateTimeOffset.UtcNow, content, manifest.Target, null);
    }

    /// <summary>Writes a revision to the index and history of its origin's replica alone, as its push would.</summary>
    private async Task WriteAsync(RevisionRecord record)
    {
        var writer = _mesh.Nodes.Single(n => n.Settings.Name == record.Origin);
        var replicator = DistributedData.Get(writer.System).Replicator;
        await replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.IndexOf("race"), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(writer.Cluster.SelfUniqueAddress, "race", record, Replicated.RevisionClock)));
        await replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.HistoryOf("race"), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(writer.Cluster.SelfUniqueAddress, Replicated.HistoryEntry(record), record, Replicated.RevisionClock)));
    }

    private static async Task SkewDetectedAsync(MeshNode skewed, MeshNode other, TimeSpan shift)
    {
        var expected = -(long)shift.TotalMilliseconds;
        await Eventually.True(() => Math.Abs(skewed.ClockOffsets.CorrectionMs - expected) < 2_000, $"the skewed node corrects its clock by about {expected} ms");
        var own = await Eventually.Value(async () => (await skewed.Queries.StatusAsync(null)).ClockSkews?.SingleOrDefault(s => s.Self), "the skewed node shows its own skew");
        Assert.Equal("skewed", own.Node);
        Assert.Contains($"is {Math.Abs(shift.TotalSeconds):0} s {(shift > TimeSpan.Zero ? "ahead of" : "behind")} the mesh's", own.Describe());
        var seen = await Eventually.Value(async () => (await other.Queries.StatusAsync(null)).ClockSkews?.SingleOrDefault(s => s.Node == "skewed" && s.Corrected),
            $"{other.Settings.Name} shows the skewed node's clock, corrected");
        Assert.False(seen.Self);
        Assert.Equal($"node skewed's clock is {Math.Abs(shift.TotalSeconds):0} s {(shift > TimeSpan.Zero ? "ahead of" : "behind")} this node's; it stamps its versions with the mesh's time",
            seen.Describe());
        Assert.Equal(0, other.ClockOffsets.CorrectionMs);
    }

    /// <summary>Of two concurrent pushes, the later one in real time is the head on every node, and the other is flagged lost.</summary>
    private async Task LaterWriteWinsAsync(MeshNode earlierWriter, MeshNode laterWriter)
    {
        // Both stamped before either is written anywhere: neither writer has seen the other's
        // revision, as in a partition. The later clearly later, beyond what clock readings can be off by.
        var earlier = Stamp(earlierWriter, "earlier");
        await Eventually.True(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > earlier.Time.ToUnixTimeMilliseconds() + 2_000, "two seconds pass");
        var later = Stamp(laterWriter, "later");
        await Task.WhenAll(WriteAsync(earlier), WriteAsync(later));

        foreach (var node in _mesh.Nodes)
            await Eventually.True(() => node.Store.HeadAsync("race").Result is { } head && head.Version.Equals(later.Version)
                && node.Store.HistoryAsync("race").Result.Count == 2, $"{node.Settings.Name} keeps the later write as the head");
        var status = await Eventually.Value(async () => await earlierWriter.Queries.StatusAsync("race") is { LostWrites: [_] } s ? s : null, "the earlier write is flagged lost");
        Assert.Equal(earlier.Version, status.LostWrites[0].Revision.Version);
    }

    /// <summary>A push over the head through each node: every revision is stamped above the one it replaces.</summary>
    private async Task HistoryStaysCausalAsync(params MeshNode[] pushers)
    {
        var n = 0;
        foreach (var node in pushers)
        {
            var head = await Eventually.Value(() => node.Store.HeadAsync("race"), "a head of race");
            var pushed = await node.Revisions.PushAsync(new PushRequest(
                [new ManifestFile("race.yaml", $"manifest: race\nresources:\n  - {{ id: f, type: file, path: /race, content: \"push {++n}\" }}\n")],
                "over the head", "tester", Parents: new() { ["race"] = head.Version.ToString() }));
            var record = pushed.Revisions.Single().Revision;
            Assert.Equal(head.Version.ToString(), record.Parent);
            Assert.True(record.Version > head.Version, $"{record.Version} from {node.Settings.Name} above its parent {head.Version}");
            foreach (var other in _mesh.Nodes)
                await Eventually.True(() => other.Store.HeadAsync("race").Result?.Version.Equals(record.Version) == true, $"{other.Settings.Name} has {record.Version}");
        }
        var history = (await pushers[0].Store.HistoryAsync("race")).ToDictionary(r => r.Version.ToString());
        foreach (var revision in history.Values.Where(r => r.Parent is not null))
            Assert.True(revision.Version > history[revision.Parent!].Version, $"{revision.Version} is above its parent {revision.Parent}");
    }

    [Fact]
    public async Task A_node_five_minutes_ahead_no_longer_wins_a_concurrent_push_it_made_earlier()
    {
        var (skewed, b, c) = await StartAsync(FiveMinutes);
        await SkewDetectedAsync(skewed, b, FiveMinutes);

        await LaterWriteWinsAsync(earlierWriter: skewed, laterWriter: b);
        await HistoryStaysCausalAsync(skewed, c, b);
    }

    [Fact]
    public async Task A_node_five_minutes_behind_no_longer_loses_a_concurrent_push_it_made_later()
    {
        var (skewed, b, c) = await StartAsync(-FiveMinutes);
        await SkewDetectedAsync(skewed, c, -FiveMinutes);

        await LaterWriteWinsAsync(earlierWriter: b, laterWriter: skewed);
        await HistoryStaysCausalAsync(b, skewed, c);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
