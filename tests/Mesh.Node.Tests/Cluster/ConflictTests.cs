using Akka.Actor;
using Akka.DistributedData;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>Concurrent writes of one manifest end on one head everywhere, and the other stays in history, flagged.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConflictTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    /// <summary>A revision of the manifest "tie", stored on every node and written to the index and history of <paramref name="writer"/> only.</summary>
    private async Task<RevisionRecord> WriteAsync(MeshNode writer, HybridTimestamp version, string content)
    {
        var manifest = ManifestParser.Parse($"manifest: tie\nresources:\n  - {{ id: f, type: file, path: /tie, content: \"{content}\" }}\n", "tie.yaml");
        var bytes = CanonicalForm.ToBytes(manifest);
        foreach (var node in _mesh.Nodes) node.Content.Put(bytes);
        var record = new RevisionRecord("tie", version, CanonicalForm.Hash(bytes), bytes.Length, "tester", writer.Settings.Name,
            writer.Cluster.SelfAddress.ToString(), DateTimeOffset.UtcNow, content, manifest.Target, null);
        var replicator = DistributedData.Get(writer.System).Replicator;
        await replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.IndexOf("tie"), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(writer.Cluster.SelfUniqueAddress, "tie", record, Replicated.RevisionClock)));
        await replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.HistoryOf("tie"), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(writer.Cluster.SelfUniqueAddress, Replicated.HistoryEntry(record), record, Replicated.RevisionClock)));
        return record;
    }

    [Fact]
    public async Task Revisions_tied_on_wall_time_and_counter_end_on_the_head_the_index_keeps_on_every_node()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        // The index breaks a tie of wall time and counter by the writer's incarnation (lower uid
        // wins), the version order by node name. Arrange for the two to disagree: the index's
        // winner is the revision that orders lower, and the other one is also announced.
        var (keeper, other) = a.Cluster.SelfUniqueAddress.Uid < b.Cluster.SelfUniqueAddress.Uid ? (a, b) : (b, a);
        var wall = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000;
        var kept = await WriteAsync(keeper, new HybridTimestamp(wall, 0, "a"), "kept");
        var tied = await WriteAsync(other, new HybridTimestamp(wall, 0, "b"), "tied");
        Assert.True(tied.Version > kept.Version);
        other.Topics.Tell(new Topics.Publish(Replicated.ChangeTopic, tied));

        foreach (var node in new[] { a, b })
        {
            await Eventually.True(() => node.Store.IndexAsync().Result["tie"].Version.Equals(kept.Version), $"{node.Settings.Name}'s index keeps {kept.Version}");
            await Eventually.True(() => File.Exists(_mesh.RootOf(node, "/tie")) && File.ReadAllText(_mesh.RootOf(node, "/tie")) == "kept",
                $"{node.Settings.Name} applies the head the index keeps");
        }
        foreach (var node in new[] { a, b })
        {
            var status = await Eventually.Value(async () => await node.Queries.StatusAsync("tie") is { } s && s.Manifests.All(m => m.State == "ok") && s.LostWrites.Length == 1 ? s : null,
                $"{node.Settings.Name} sees both nodes ok and one lost write");
            Assert.Equal(["a", "b"], status.Manifests.Select(m => m.Node).Order());
            var lost = Assert.Single(status.LostWrites);
            Assert.Equal(tied.Version, lost.Revision.Version);
            Assert.Equal(kept.Version, lost.Winner.Version);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
