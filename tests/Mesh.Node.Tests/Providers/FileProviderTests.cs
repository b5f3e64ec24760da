using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

public sealed class FileProviderTests : ProviderTestBase
{
    private readonly FileProvider _provider = new();

    private ProviderResult Apply(FileResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(FileResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    [Fact]
    public void Creates_a_missing_file_with_its_content_and_mode()
    {
        var result = Apply(FileSpec("/app.conf", "port = 80\n", Mode600));

        Assert.Equal(ResourceAction.Created, result.Action);
        Assert.Equal("port = 80\n", File.ReadAllText(Root["app.conf"]));
        Assert.Equal(Mode600, ModeOf("app.conf"));
    }

    [Fact]
    public void A_second_apply_changes_nothing_and_says_so()
    {
        var spec = FileSpec("/app.conf", "port = 80\n", Mode600);
        Apply(spec);
        var before = File.GetLastWriteTimeUtc(Root["app.conf"]);

        var second = Apply(spec);

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(before, File.GetLastWriteTimeUtc(Root["app.conf"]));
    }

    [Fact]
    public void Replaces_content_that_differs()
    {
        File.WriteAllText(Root["app.conf"], "port = 81\n");

        var result = Apply(FileSpec("/app.conf", "port = 80\n"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Contains("content", result.Message);
        Assert.Equal("port = 80\n", File.ReadAllText(Root["app.conf"]));
    }

    [Fact]
    public void Fixes_only_the_mode_when_only_the_mode_differs()
    {
        File.WriteAllText(Root["app.conf"], "x");
        File.SetUnixFileMode(Root["app.conf"], Mode644.ToFileMode());

        var result = Apply(FileSpec("/app.conf", "x", Mode600));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("mode 0644 -> 0600", result.Message);
        Assert.Equal(Mode600, ModeOf("app.conf"));
    }

    [Fact]
    public void A_dry_run_reports_the_change_and_touches_nothing()
    {
        File.WriteAllText(Root["app.conf"], "old");

        var result = Check(FileSpec("/app.conf", "new"));
        var missing = Check(FileSpec("/other.conf", "new"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal(ResourceAction.Created, missing.Action);
        Assert.Equal("old", File.ReadAllText(Root["app.conf"]));
        Assert.False(File.Exists(Root["other.conf"]));
    }

    [Fact]
    public void Ensure_absent_removes_the_file_and_then_has_nothing_to_do()
    {
        File.WriteAllText(Root["stale.conf"], "x");

        Assert.Equal(ResourceAction.Removed, Apply(FileSpec("/stale.conf", ensure: Ensure.Absent)).Action);
        Assert.False(File.Exists(Root["stale.conf"]));
        Assert.Equal(ResourceAction.Unchanged, Apply(FileSpec("/stale.conf", ensure: Ensure.Absent)).Action);
    }

    [Fact]
    public void A_file_without_content_is_created_empty_and_existing_content_is_left_alone()
    {
        Assert.Equal(ResourceAction.Created, Apply(FileSpec("/marker")).Action);
        Assert.Equal(0, new FileInfo(Root["marker"]).Length);

        File.WriteAllText(Root["marker"], "someone's data");
        Assert.Equal(ResourceAction.Unchanged, Apply(FileSpec("/marker")).Action);
        Assert.Equal("someone's data", File.ReadAllText(Root["marker"]));
    }

    [Fact]
    public void A_missing_parent_directory_is_a_clear_failure()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(FileSpec("/no/such/dir/app.conf", "x")));
        Assert.Contains("parent directory /no/such/dir", e.Message);
    }

    [Fact]
    public void A_directory_in_the_files_place_is_a_clear_failure()
    {
        Directory.CreateDirectory(Root["app.conf"]);
        var e = Assert.Throws<ResourceException>(() => Apply(FileSpec("/app.conf", "x")));
        Assert.Contains("is a directory", e.Message);
    }

    [Fact]
    public void A_symlink_in_the_files_place_is_replaced_not_followed()
    {
        using var outside = new Support.TempDir();
        var victim = outside["victim"];
        File.WriteAllText(victim, "precious");
        File.CreateSymbolicLink(Root["app.conf"], victim);

        var result = Apply(FileSpec("/app.conf", "managed"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(Root["app.conf"]).LinkTarget);
        Assert.Equal("managed", File.ReadAllText(Root["app.conf"]));
    }

    [Fact]
    public void Writes_leave_no_temporary_files_behind()
    {
        Apply(FileSpec("/a.conf", "1"));
        Apply(FileSpec("/a.conf", "2"));

        Assert.Equal(["a.conf"], Directory.GetFiles(Root.Path).Select(Path.GetFileName));
    }
}
