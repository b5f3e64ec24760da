using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

public sealed class SymlinkProviderTests : ProviderTestBase
{
    private readonly SymlinkProvider _provider = new();
    private readonly TempDir _outside = new();

    private ProviderResult Apply(SymlinkResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(SymlinkResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    private static SymlinkResource Link(string path, string? target, Ensure ensure = Ensure.Present, bool force = false) =>
        new("l", [], path, ensure, target, force);

    private string? TargetOf(string relative) => new FileInfo(Root[relative]).LinkTarget;

    /// <summary>The host path of a manifest path: the root as the provider sees it (symlinks in the temp path resolved).</summary>
    private string Host(string manifestPath) => Context.Resolve(manifestPath);

    [Fact]
    public void Creates_a_link_with_its_relative_target_as_written()
    {
        Directory.CreateDirectory(Root["srv/releases/42"]);

        var result = Apply(Link("/srv/current", "releases/42"));

        Assert.Equal(ResourceAction.Created, result.Action);
        Assert.Equal("created /srv/current -> releases/42", result.Message);
        Assert.Equal("releases/42", TargetOf("srv/current"));
        Assert.True(Directory.Exists(Root["srv/current"]));
    }

    [Fact]
    public void An_absolute_target_points_inside_the_root_not_at_the_host()
    {
        Directory.CreateDirectory(Root["etc"]);

        var result = Apply(Link("/etc/foo", "/opt/foo"));

        Assert.Equal(Host("/opt/foo"), TargetOf("etc/foo"));
        Assert.StartsWith(Host("/"), TargetOf("etc/foo"));
        Assert.Equal("created /etc/foo -> /opt/foo", result.Message);
    }

    [Fact]
    public void A_link_to_a_target_that_does_not_exist_yet_is_made()
    {
        Apply(Link("/later", "not/there/yet"));

        Assert.Equal("not/there/yet", TargetOf("later"));
    }

    [Fact]
    public void A_second_apply_changes_nothing_and_says_so()
    {
        var spec = Link("/current", "/opt/app");
        Apply(spec);
        var before = File.GetLastWriteTimeUtc(Root["current"]);

        var second = Apply(spec);

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(before, File.GetLastWriteTimeUtc(Root["current"]));
    }

    [Fact]
    public void A_link_to_the_wrong_target_is_retargeted_in_place_with_nothing_left_behind()
    {
        File.CreateSymbolicLink(Root["current"], "releases/41");

        var result = Apply(Link("/current", "releases/42"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("retargeted /current: releases/41 -> releases/42", result.Message);
        Assert.Equal("releases/42", TargetOf("current"));
        Assert.Equal([Root["current"]], Directory.GetFileSystemEntries(Root.Path));
    }

    [Fact]
    public void A_retarget_names_an_old_absolute_target_the_way_the_manifest_would()
    {
        File.CreateSymbolicLink(Root["current"], Host("/opt/old"));

        var result = Apply(Link("/current", "/opt/new"));

        Assert.Equal("retargeted /current: /opt/old -> /opt/new", result.Message);
        Assert.Equal(Host("/opt/new"), TargetOf("current"));
    }

    [Fact]
    public void Ensure_absent_removes_the_link_but_not_what_it_points_at()
    {
        File.WriteAllText(Root["data"], "keep me");
        File.CreateSymbolicLink(Root["alias"], "data");

        var result = Apply(Link("/alias", null, Ensure.Absent));
        var again = Apply(Link("/alias", null, Ensure.Absent));

        Assert.Equal(ResourceAction.Removed, result.Action);
        Assert.Equal(ResourceAction.Unchanged, again.Action);
        Assert.False(File.Exists(Root["alias"]) || TargetOf("alias") is not null);
        Assert.Equal("keep me", File.ReadAllText(Root["data"]));
    }

    [Fact]
    public void Ensure_absent_leaves_a_real_file_alone()
    {
        File.WriteAllText(Root["alias"], "someone's data");

        var result = Apply(Link("/alias", null, Ensure.Absent));

        Assert.Equal(ResourceAction.Unchanged, result.Action);
        Assert.Equal("someone's data", File.ReadAllText(Root["alias"]));
    }

    [Fact]
    public void A_file_in_the_way_is_refused_without_force()
    {
        File.WriteAllText(Root["current"], "a real file");

        var e = Assert.Throws<ResourceException>(() => Apply(Link("/current", "releases/42")));

        Assert.Equal("/current is a file, not a symlink; set 'force: true' to replace it", e.Message);
        Assert.Equal("a real file", File.ReadAllText(Root["current"]));
    }

    [Fact]
    public void With_force_a_file_in_the_way_is_replaced_and_kept_as_a_backup()
    {
        File.WriteAllText(Root["current"], "a real file");
        var backups = Path.Combine(Root.Path, "..", Path.GetFileName(Root.Path) + "-backups");
        var context = Context with { BackupDir = backups, Manifest = "m" };

        try
        {
            var result = _provider.CheckApply(Link("/current", "releases/42", force: true), context, apply: true, CancellationToken.None);

            Assert.Equal(ResourceAction.Changed, result.Action);
            Assert.Equal("replaced file /current with a symlink -> releases/42", result.Message);
            Assert.Equal("releases/42", TargetOf("current"));
            Assert.Equal("a real file", File.ReadAllText(Assert.Single(Directory.GetFiles(backups, "*", SearchOption.AllDirectories))));
        }
        finally
        {
            Directory.Delete(backups, recursive: true);
        }
    }

    [Fact]
    public void A_directory_in_the_way_is_refused_without_force()
    {
        Directory.CreateDirectory(Root["current"]);

        var e = Assert.Throws<ResourceException>(() => Apply(Link("/current", "releases/42")));

        Assert.Contains("/current is a directory, not a symlink", e.Message);
        Assert.True(Directory.Exists(Root["current"]) && TargetOf("current") is null);
    }

    [Fact]
    public void A_non_empty_directory_is_never_deleted_even_with_force()
    {
        Directory.CreateDirectory(Root["current"]);
        File.WriteAllText(Root["current/precious"], "x");

        var e = Assert.Throws<ResourceException>(() => Apply(Link("/current", "releases/42", force: true)));

        Assert.Contains("not empty", e.Message);
        Assert.Equal("x", File.ReadAllText(Root["current/precious"]));
    }

    [Fact]
    public void With_force_an_empty_directory_is_replaced()
    {
        Directory.CreateDirectory(Root["current"]);

        var result = Apply(Link("/current", "releases/42", force: true));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("releases/42", TargetOf("current"));
    }

    [Fact]
    public void A_dry_run_reports_every_change_and_touches_nothing()
    {
        File.CreateSymbolicLink(Root["wrong"], "old");
        File.WriteAllText(Root["file"], "data");
        Directory.CreateDirectory(Root["empty"]);

        var created = Check(Link("/new", "t"));
        var retargeted = Check(Link("/wrong", "new"));
        var replaced = Check(Link("/file", "t", force: true));
        var emptyDir = Check(Link("/empty", "t", force: true));
        var removed = Check(Link("/wrong", null, Ensure.Absent));
        var missingParent = Check(Link("/not/yet/there", "t"));

        Assert.Equal(
            [ResourceAction.Created, ResourceAction.Changed, ResourceAction.Changed, ResourceAction.Changed, ResourceAction.Removed, ResourceAction.Created],
            new[] { created, retargeted, replaced, emptyDir, removed, missingParent }.Select(r => r.Action));
        Assert.Contains("does not exist yet", missingParent.Message);
        Assert.False(File.Exists(Root["new"]) || TargetOf("new") is not null);
        Assert.Equal("old", TargetOf("wrong"));
        Assert.Equal("data", File.ReadAllText(Root["file"]));
        Assert.True(Directory.Exists(Root["empty"]) && TargetOf("empty") is null);
    }

    [Fact]
    public void A_missing_parent_fails_when_applying()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Link("/no/such/dir/link", "t")));

        Assert.Contains("parent directory /no/such/dir of /no/such/dir/link does not exist", e.Message);
    }

    [Fact]
    public void A_relative_target_that_climbs_out_through_a_symlinked_parent_is_refused()
    {
        // /a/b/c is the root's /s: "../../../x" stays inside when read as a manifest path, not from where it really is.
        Directory.CreateDirectory(Root["s"]);
        Directory.CreateDirectory(Root["a/b"]);
        File.CreateSymbolicLink(Root["a/b/c"], Root["s"]);

        var e = Assert.Throws<ResourceException>(() => Apply(Link("/a/b/c/link", "../../../x")));

        Assert.Contains("would lead outside the root", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Root["s"]));
    }

    [Fact]
    public void A_target_that_is_itself_a_symlink_out_of_the_root_is_refused()
    {
        File.CreateSymbolicLink(Root["escape"], _outside.Path);
        File.CreateSymbolicLink(Root["dangling"], Path.Combine(_outside.Path, "not-yet"));

        var viaExisting = Assert.Throws<ResourceException>(() => Apply(Link("/l1", "/escape")));
        var viaDangling = Assert.Throws<ResourceException>(() => Apply(Link("/l2", "dangling")));

        Assert.Contains("would lead outside the root", viaExisting.Message);
        Assert.Contains("would lead outside the root", viaDangling.Message);
        Assert.Null(TargetOf("l1"));
        Assert.Null(TargetOf("l2"));
    }

    [Fact]
    public void No_link_is_made_outside_the_root_through_a_symlinked_parent()
    {
        File.CreateSymbolicLink(Root["etc"], _outside.Path);

        Assert.Throws<ResourceException>(() => Apply(Link("/etc/foo", "/opt/foo")));
        Assert.Empty(Directory.GetFileSystemEntries(_outside.Path));
    }

    [Fact]
    public void A_file_written_through_a_link_with_an_absolute_target_lands_inside_the_root()
    {
        Directory.CreateDirectory(Root["opt/app"]);
        Apply(Link("/app", "/opt/app"));

        new FileProvider().CheckApply(new FileResource("f", [], "/app/app.conf", Ensure.Present, "x", null), Context, apply: true, CancellationToken.None);

        Assert.Equal("x", File.ReadAllText(Root["opt/app/app.conf"]));
    }

    public override void Dispose()
    {
        _outside.Dispose();
        base.Dispose();
    }
}
