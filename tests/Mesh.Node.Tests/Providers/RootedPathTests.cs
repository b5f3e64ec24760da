using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;

namespace Mesh.Node.Tests.Providers;

public sealed class RootedPathTests : IDisposable
{
    private readonly TempDir _root = new();
    private readonly TempDir _outside = new();

    [Fact]
    public void Manifest_paths_land_under_the_root()
    {
        Assert.Equal(_root["etc/motd"], RootedPath.Resolve(_root.Path, "/etc/motd"));
    }

    [Fact]
    public void A_symlinked_parent_that_leads_out_of_the_root_is_refused()
    {
        File.CreateSymbolicLink(_root["etc"], _outside.Path);

        var e = Assert.Throws<ResourceException>(() => RootedPath.Resolve(_root.Path, "/etc/passwd"));
        Assert.Contains("/etc is a symlink that leads outside the root", e.Message);
    }

    [Fact]
    public void A_symlinked_parent_that_stays_inside_the_root_is_allowed()
    {
        Directory.CreateDirectory(_root["real"]);
        File.CreateSymbolicLink(_root["alias"], _root["real"]);

        Assert.Equal(_root["alias/file"], RootedPath.Resolve(_root.Path, "/alias/file"));
    }

    [Fact]
    public void The_file_provider_writes_nothing_outside_through_a_symlinked_parent()
    {
        File.CreateSymbolicLink(_root["etc"], _outside.Path);
        var spec = new Protocol.Manifests.FileResource("f", [], "/etc/motd", Protocol.Manifests.Ensure.Present, "x", null);

        Assert.Throws<ResourceException>(() => new FileProvider().CheckApply(spec, new ApplyContext(_root.Path), apply: true, CancellationToken.None));
        Assert.Empty(Directory.GetFileSystemEntries(_outside.Path));
    }

    public void Dispose()
    {
        _root.Dispose();
        _outside.Dispose();
    }
}
