using System.Text;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class BlobCollectionTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest WithSource(string text) =>
        new([new ManifestFile("site.yaml", "manifest: site\nresources:\n  - { id: page, type: file, path: /page, source: page.html }\n",
            new() { ["page.html"] = Encoding.UTF8.GetBytes(text) })], text, "tester");

    [Fact]
    public async Task Blobs_of_revisions_that_fell_out_of_history_are_collected_and_retained_ones_stay_readable()
    {
        var a = _mesh.Start("a", extraHocon: "mesh.history.keep = 2");
        await _mesh.Converged();
        var pushed = new List<Mesh.Protocol.Wire.RevisionRecord>();
        foreach (var i in Enumerable.Range(1, 4))
        {
            pushed.Add((await a.Revisions.PushAsync(WithSource($"page {i}"))).Revisions[0].Revision);
            await Eventually.True(() => File.Exists(_mesh.RootOf(a, "/page")) && File.ReadAllText(_mesh.RootOf(a, "/page")) == $"page {i}", $"page {i} applied");
        }
        var before = a.Content.Hashes().Count();

        var (blobs, bytes) = await a.Blobs.CollectAsync(TimeSpan.Zero);

        // Revisions 1 and 2 fell out of history: their bodies and their sources go.
        Assert.Equal(4, blobs);
        Assert.True(bytes > 0);
        Assert.Equal(before - 4, a.Content.Hashes().Count());
        Assert.False(a.Content.Contains(pushed[0].Hash));
        Assert.False(a.Content.Contains(pushed[1].Hash));
        Assert.Contains("page 3", Encoding.UTF8.GetString(a.Content.Get(Mesh.Protocol.Manifests.CanonicalForm.Hash(Encoding.UTF8.GetBytes("page 3")))!));
        Assert.NotNull(await a.Queries.GetAsync("site", pushed[2].Version.ToString()));
        await a.Revisions.RollbackAsync("site", pushed[2].Version.ToString(), "tester");
        await Eventually.True(() => File.ReadAllText(_mesh.RootOf(a, "/page")) == "page 3", "rollback to a retained revision still works");

        Assert.Equal(0, (await a.Blobs.CollectAsync(TimeSpan.Zero)).Blobs);
        Assert.Equal(0, (await a.Blobs.CollectAsync(TimeSpan.FromHours(1))).Blobs);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
