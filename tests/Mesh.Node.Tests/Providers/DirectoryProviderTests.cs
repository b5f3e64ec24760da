using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

public sealed class DirectoryProviderTests : ProviderTestBase
{
    private readonly DirectoryProvider _provider = new();

    private ProviderResult Apply(DirectoryResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);

    [Fact]
    public void Creates_a_directory_with_its_mode_then_has_nothing_to_do()
    {
        Assert.Equal(ResourceAction.Created, Apply(DirSpec("/srv", Mode700)).Action);
        Assert.True(Directory.Exists(Root["srv"]));
        Assert.Equal(Mode700, ModeOf("srv"));

        Assert.Equal(ResourceAction.Unchanged, Apply(DirSpec("/srv", Mode700)).Action);
    }

    [Fact]
    public void Repairs_a_mode_that_drifted()
    {
        Apply(DirSpec("/srv", Mode755));
        File.SetUnixFileMode(Root["srv"], Mode700.ToFileMode());

        var result = Apply(DirSpec("/srv", Mode755));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal(Mode755, ModeOf("srv"));
    }

    [Fact]
    public void Without_a_mode_an_existing_directory_is_left_as_it_is()
    {
        Directory.CreateDirectory(Root["srv"]);
        File.SetUnixFileMode(Root["srv"], Mode700.ToFileMode());

        Assert.Equal(ResourceAction.Unchanged, Apply(DirSpec("/srv")).Action);
        Assert.Equal(Mode700, ModeOf("srv"));
    }

    [Fact]
    public void Ensure_absent_removes_an_empty_directory()
    {
        Directory.CreateDirectory(Root["old"]);

        Assert.Equal(ResourceAction.Removed, Apply(DirSpec("/old", ensure: Ensure.Absent)).Action);
        Assert.False(Directory.Exists(Root["old"]));
    }

    [Fact]
    public void A_non_empty_directory_is_removed_only_with_force()
    {
        Directory.CreateDirectory(Root["old"]);
        File.WriteAllText(Root["old/data"], "x");

        var e = Assert.Throws<ResourceException>(() => Apply(DirSpec("/old", ensure: Ensure.Absent)));
        Assert.Contains("force: true", e.Message);
        Assert.True(File.Exists(Root["old/data"]));

        Assert.Equal(ResourceAction.Removed, Apply(DirSpec("/old", ensure: Ensure.Absent, force: true)).Action);
        Assert.False(Directory.Exists(Root["old"]));
    }

    [Fact]
    public void Purge_removes_unmanaged_entries_and_spares_managed_ones_and_subdirectories_without_force()
    {
        Directory.CreateDirectory(Root["conf.d/keep-dir"]);
        File.WriteAllText(Root["conf.d/managed.conf"], "x");
        File.WriteAllText(Root["conf.d/other-manifest.conf"], "x");
        File.WriteAllText(Root["conf.d/stray.conf"], "x");
        var spec = DirSpec("/conf.d") with { Purge = true };
        var manifest = new Manifest("m", TargetSpec.All, new(), [spec, FileSpec("/conf.d/managed.conf")]);
        var context = (Context with { ManagedElsewhere = new Dictionary<string, string> { ["/conf.d/other-manifest.conf"] = "other" } }).For(manifest);

        var plan = _provider.CheckApply(spec, context, apply: false, CancellationToken.None);
        Assert.Equal("purged /conf.d/stray.conf", plan.Message);
        Assert.True(File.Exists(Root["conf.d/stray.conf"]));

        var result = _provider.CheckApply(spec, context, apply: true, CancellationToken.None);

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.False(File.Exists(Root["conf.d/stray.conf"]));
        Assert.True(File.Exists(Root["conf.d/managed.conf"]));
        Assert.True(File.Exists(Root["conf.d/other-manifest.conf"]));
        Assert.True(Directory.Exists(Root["conf.d/keep-dir"]));
        Assert.Equal(ResourceAction.Unchanged, _provider.CheckApply(spec, context, apply: true, CancellationToken.None).Action);

        var forced = spec with { Force = true };
        Assert.Equal("purged /conf.d/keep-dir", _provider.CheckApply(forced, context, apply: true, CancellationToken.None).Message);
        Assert.False(Directory.Exists(Root["conf.d/keep-dir"]));
    }

    [Fact]
    public void Owner_and_group_are_set_at_creation_and_repaired_by_name()
    {
        Directory.CreateDirectory(Root["etc"]);
        File.WriteAllText(Root["etc/passwd"], "root:x:0:0::/root:/bin/sh\nweb:x:4501:4502::/srv:/bin/false\n");
        File.WriteAllText(Root["etc/group"], "root:x:0:\nweb:x:4502:\n");
        var spec = DirSpec("/srv") with { Owner = "web", Group = "web" };

        Assert.Equal(ResourceAction.Created, _provider.CheckApply(spec, Context, apply: true, CancellationToken.None).Action);
        Assert.Equal((4501, 4502), Posix.OwnerOf(Root["srv"]));
        Assert.Equal(ResourceAction.Unchanged, _provider.CheckApply(spec, Context, apply: true, CancellationToken.None).Action);

        Posix.Chown(Root["srv"], 0, -1);
        var repaired = _provider.CheckApply(spec, Context, apply: true, CancellationToken.None);
        Assert.Equal("owner 0 -> web", repaired.Message);
        Assert.Equal((4501, 4502), Posix.OwnerOf(Root["srv"]));
    }

    [Fact]
    public void A_file_in_the_directorys_place_is_a_clear_failure()
    {
        File.WriteAllText(Root["srv"], "x");
        var e = Assert.Throws<ResourceException>(() => Apply(DirSpec("/srv")));
        Assert.Contains("not a directory", e.Message);
    }
}
