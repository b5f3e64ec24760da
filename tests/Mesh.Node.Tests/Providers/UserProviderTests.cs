using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>
/// The user provider driving the real useradd/usermod/userdel on a throwaway root holding
/// copies of the host's account files; the host's own files are checked unchanged after each test.
/// </summary>
public sealed class UserProviderTests : IDisposable
{
    private readonly AccountRoot _root = new();
    private readonly UserProvider _provider = new();

    public UserProviderTests()
    {
        try
        {
            foreach (var (name, gid) in new[] { ("meshers", "2345"), ("mesh-a", "2346"), ("mesh-b", "2347") })
                UnixAccounts.Run(_root.Path, "groupadd", ["--gid", gid, name], CancellationToken.None);
        }
        catch
        {
            _root.Dispose();
            throw;
        }
    }

    public void Dispose() => _root.Dispose();

    private ApplyContext Context => new(_root.Path);

    private static UserResource User(Ensure ensure = Ensure.Present) => new("usr", [], "meshu", ensure);

    private static readonly UserResource Full = User() with
    {
        Uid = 2400,
        Group = "meshers",
        Groups = ["mesh-a"],
        Home = "/home/meshu",
        Shell = "/bin/sh",
        Comment = "Mesh User",
    };

    private ProviderResult Apply(UserResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(UserResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    [Fact]
    public void Creates_a_user_with_every_field_in_the_roots_account_files()
    {
        var result = Apply(Full);

        Assert.Equal(ResourceAction.Created, result.Action);
        Assert.Equal("created user meshu (uid 2400, group meshers, groups mesh-a, home /home/meshu, shell /bin/sh, comment 'Mesh User')", result.Message);
        Assert.Equal("meshu:x:2400:2345:Mesh User:/home/meshu:/bin/sh", _root.Entry("passwd", "meshu"));
        Assert.Equal("mesh-a:x:2346:meshu", _root.Entry("group", "mesh-a"));
        Assert.NotNull(_root.Entry("shadow", "meshu"));
    }

    [Fact]
    public void A_second_apply_changes_nothing_and_says_so()
    {
        Apply(Full);
        var before = _root.Snapshot();

        var second = Apply(Full);

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(before, _root.Snapshot());
    }

    [Fact]
    public void Every_field_that_differs_is_changed_in_one_go_and_reported()
    {
        Apply(Full);

        var result = Apply(Full with { Uid = 2401, Group = "mesh-b", Groups = ["mesh-b"], Home = "/srv/meshu", Shell = "/bin/bash", Comment = "Mesh" });

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal(
            "uid 2400 -> 2401, group meshers -> mesh-b, groups +mesh-b -mesh-a, home /home/meshu -> /srv/meshu, shell /bin/sh -> /bin/bash, comment 'Mesh User' -> 'Mesh'",
            result.Message);
        Assert.Equal("meshu:x:2401:2347:Mesh:/srv/meshu:/bin/bash", _root.Entry("passwd", "meshu"));
        Assert.Equal(("mesh-a:x:2346:", "mesh-b:x:2347:meshu"), (_root.Entry("group", "mesh-a"), _root.Entry("group", "mesh-b")));
    }

    [Fact]
    public void Fields_left_out_are_left_as_they_are()
    {
        Apply(Full);

        Assert.Equal(ResourceAction.Unchanged, Apply(User()).Action);
        Assert.Equal("meshu:x:2400:2345:Mesh User:/home/meshu:/bin/sh", _root.Entry("passwd", "meshu"));
    }

    [Fact]
    public void An_empty_group_list_takes_the_user_out_of_every_supplementary_group()
    {
        Apply(Full with { Groups = ["mesh-a", "mesh-b"] });

        var result = Apply(Full with { Groups = [] });

        Assert.Equal("groups -mesh-a -mesh-b", result.Message);
        Assert.Equal(("mesh-a:x:2346:", "mesh-b:x:2347:"), (_root.Entry("group", "mesh-a"), _root.Entry("group", "mesh-b")));
    }

    [Fact]
    public void The_primary_group_can_be_named_by_its_gid()
    {
        Apply(Full);

        var result = Apply(Full with { Group = "2347" });

        Assert.Equal("group meshers -> 2347", result.Message);
        Assert.StartsWith("meshu:x:2400:2347:", _root.Entry("passwd", "meshu"));
        Assert.Equal(ResourceAction.Unchanged, Apply(Full with { Group = "mesh-b" }).Action);
    }

    [Fact]
    public void A_dry_run_reports_what_would_change_and_changes_nothing()
    {
        var before = _root.Snapshot();
        var create = Check(Full);
        Assert.Equal(before, _root.Snapshot());
        Apply(Full);
        before = _root.Snapshot();

        var change = Check(Full with { Uid = 2401, Shell = "/bin/bash", Groups = ["mesh-b"] });
        var remove = Check(User(Ensure.Absent));

        Assert.Equal(ResourceAction.Created, create.Action);
        Assert.Equal((ResourceAction.Changed, "uid 2400 -> 2401, groups +mesh-b -mesh-a, shell /bin/sh -> /bin/bash"), (change.Action, change.Message));
        Assert.Equal((ResourceAction.Removed, "removed user meshu (uid 2400)"), (remove.Action, remove.Message));
        Assert.Equal(before, _root.Snapshot());
    }

    [Fact]
    public void Ensure_absent_removes_the_user_keeps_its_home_and_then_has_nothing_to_do()
    {
        Apply(Full);
        Directory.CreateDirectory(_root["home/meshu"]);
        File.WriteAllText(_root["home/meshu/notes"], "keep");

        var removed = Apply(User(Ensure.Absent));

        Assert.Equal((ResourceAction.Removed, "removed user meshu (uid 2400)"), (removed.Action, removed.Message));
        Assert.Null(_root.Entry("passwd", "meshu"));
        Assert.Null(_root.Entry("shadow", "meshu"));
        Assert.Equal("mesh-a:x:2346:", _root.Entry("group", "mesh-a"));
        Assert.Equal("keep", File.ReadAllText(_root["home/meshu/notes"]));
        Assert.Equal(ResourceAction.Unchanged, Apply(User(Ensure.Absent)).Action);
    }

    [Fact]
    public void A_system_user_gets_an_id_from_the_system_range()
    {
        var result = Apply(User() with { System = true });

        Assert.StartsWith("created system user meshu", result.Message);
        Assert.InRange(long.Parse(_root.Entry("passwd", "meshu")!.Split(':')[2]), 100, 999);
    }

    [Fact]
    public void A_uid_held_by_another_user_is_refused()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Full with { Uid = 0 }));

        Assert.Equal("uid 0 is already used by user root", e.Message);
        Assert.Null(_root.Entry("passwd", "meshu"));
    }

    [Fact]
    public void A_group_that_does_not_exist_fails_an_apply_and_is_noted_in_a_plan()
    {
        var spec = Full with { Group = "later", Groups = ["mesh-a", "later-too"] };

        var plan = Check(spec);
        var e = Assert.Throws<ResourceException>(() => Apply(spec));

        Assert.EndsWith("(group later, group later-too do not exist yet)", plan.Message);
        Assert.StartsWith("group later, group later-too do not exist on this node", e.Message);
        Assert.Null(_root.Entry("passwd", "meshu"));
    }

    [Fact]
    public void A_failing_tool_fails_the_resource_with_what_it_said_and_changes_nothing()
    {
        Apply(Full);
        var before = _root.Snapshot();
        // The shadow tools' lock, held by a live process (this one): usermod gives up.
        File.WriteAllText(_root["etc/passwd.lock"], Environment.ProcessId.ToString());

        var e = Assert.Throws<ResourceException>(() => Apply(Full with { Shell = "/bin/bash", Comment = "Mesh" }));

        Assert.StartsWith("/usr/sbin/usermod --root", e.Message);
        Assert.Contains("cannot lock /etc/passwd", e.Message);
        Assert.Equal(before, _root.Snapshot());
    }

    [Fact]
    public void A_root_without_a_passwd_file_fails_clearly()
    {
        using var bare = new TempDir();

        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(User(), new ApplyContext(bare.Path), apply: true, CancellationToken.None));

        Assert.Equal($"user: the root {bare.Path} has no /etc/passwd", e.Message);
    }
}
