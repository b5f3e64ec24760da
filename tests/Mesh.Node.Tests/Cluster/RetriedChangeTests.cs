using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A client that asks again after an error (the CLI does, once, on 503) may be repeating a change
/// whose first attempt did land: the node answers it unchanged, never with a second revision or
/// a conflict with itself.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RetriedChangeTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Push(string content, string parent) => new(
        [new ManifestFile("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{content}\" }}\n")],
        "test", "tester", Parents: new Dictionary<string, string> { ["motd"] = parent });

    [Fact]
    public async Task A_push_repeated_with_the_parent_it_was_made_over_is_unchanged_not_a_conflict_nor_a_second_revision()
    {
        var node = _mesh.Start("a");
        await _mesh.Converged();

        var first = (await node.Revisions.PushAsync(Push("one", ""))).Revisions.Single();
        var repeated = (await node.Revisions.PushAsync(Push("one", ""))).Revisions.Single();
        Assert.False(first.Unchanged);
        Assert.True(repeated.Unchanged);
        Assert.Equal(first.Revision.Version, repeated.Revision.Version);

        var parent = first.Revision.Version.ToString();
        var second = (await node.Revisions.PushAsync(Push("two", parent))).Revisions.Single();
        var secondAgain = (await node.Revisions.PushAsync(Push("two", parent))).Revisions.Single();
        Assert.True(secondAgain.Unchanged);
        Assert.Equal(second.Revision.Version, secondAgain.Revision.Version);
        Assert.Equal(2, (await node.Store.HistoryAsync("motd")).Count);

        // Other content over the old parent is still a conflict: the head moved on.
        await Assert.ThrowsAsync<PushConflictException>(() => node.Revisions.PushAsync(Push("three", parent)));
    }

    [Fact]
    public async Task A_deletion_repeated_over_the_head_it_deleted_is_unchanged()
    {
        var node = _mesh.Start("a");
        await _mesh.Converged();
        var head = (await node.Revisions.PushAsync(Push("one", ""))).Revisions.Single().Revision;

        var deleted = (await node.Revisions.DeleteAsync("motd", new DeleteRequest(head.Version.ToString(), "gone", "tester")))!.Revisions.Single();
        var repeated = (await node.Revisions.DeleteAsync("motd", new DeleteRequest(head.Version.ToString(), "gone", "tester")))!.Revisions.Single();

        Assert.False(deleted.Unchanged);
        Assert.True(repeated.Unchanged);
        Assert.Equal(deleted.Revision.Version, repeated.Revision.Version);
        Assert.Equal(2, (await node.Store.HistoryAsync("motd")).Count);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
