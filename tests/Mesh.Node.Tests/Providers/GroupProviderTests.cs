using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>
/// The group provider driving the real groupadd/groupmod/groupdel on a throwaway root holding
/// copies of the host's account files; the host's own files are checked unchanged after each test.
/// </summary>
public sealed class GroupProviderTests : IDisposable
{
    private readonly AccountRoot _root = new();
    private readonly GroupProvider _provider = new();

    public void Dispose() => _root.Dispose();

    private ApplyContext Context => new(_root.Path);

    private static GroupResource Group(string name = "meshers", long? gid = null, string[]? members = null, Ensure ensure = Ensure.Present) =>
        new("grp", [], name, ensure, gid) { Members = members };

    private ProviderResult Apply(GroupResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(GroupResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    private void AddUsers(params string[] names)
    {
        foreach (var name in names) UnixAccounts.Run(_root.Path, "useradd", [name], CancellationToken.None);
    }

    [Fact]
    public void Creates_a_group_with_its_gid_in_the_roots_account_files()
    {
        var result = Apply(Group(gid: 2345));

        Assert.Equal((ResourceAction.Created, "created group meshers (gid 2345)"), (result.Action, result.Message));
        Assert.Equal("meshers:x:2345:", _root.Entry("group", "meshers"));
        Assert.NotNull(_root.Entry("gshadow", "meshers"));
    }

    [Fact]
    public void A_second_apply_changes_nothing_and_says_so()
    {
        AddUsers("alice");
        Apply(Group(gid: 2345, members: ["alice"]));
        var before = _root.Snapshot();

        var second = Apply(Group(gid: 2345, members: ["alice"]));

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(before, _root.Snapshot());
    }

    [Fact]
    public void A_group_without_a_gid_gets_the_next_free_one_and_keeps_it()
    {
        Apply(Group());

        var gid = long.Parse(_root.Entry("group", "meshers")!.Split(':')[2]);

        Assert.InRange(gid, 1000, 60000);
        Assert.Equal(ResourceAction.Unchanged, Apply(Group()).Action);
    }

    [Fact]
    public void A_different_gid_is_changed_and_reported()
    {
        Apply(Group(gid: 2345));

        var result = Apply(Group(gid: 2346));

        Assert.Equal((ResourceAction.Changed, "gid 2345 -> 2346"), (result.Action, result.Message));
        Assert.Equal("meshers:x:2346:", _root.Entry("group", "meshers"));
    }

    [Fact]
    public void Members_are_enforced_exactly()
    {
        AddUsers("alice", "bob", "carol");
        var created = Apply(Group(gid: 2345, members: ["alice", "bob"]));

        var changed = Apply(Group(gid: 2345, members: ["bob", "carol"]));

        Assert.Equal("created group meshers (gid 2345, members alice bob)", created.Message);
        Assert.Equal((ResourceAction.Changed, "members +carol -alice"), (changed.Action, changed.Message));
        Assert.Equal("meshers:x:2345:bob,carol", _root.Entry("group", "meshers"));
        Assert.EndsWith(":bob,carol", _root.Entry("gshadow", "meshers"));
    }

    [Fact]
    public void An_empty_member_list_empties_the_group_and_a_missing_one_leaves_it_alone()
    {
        AddUsers("alice");
        Apply(Group(members: ["alice"]));

        var unmanaged = Apply(Group());
        var emptied = Apply(Group(members: []));

        Assert.Equal(ResourceAction.Unchanged, unmanaged.Action);
        Assert.Equal((ResourceAction.Changed, "members -alice"), (emptied.Action, emptied.Message));
        Assert.EndsWith(":", _root.Entry("group", "meshers"));
    }

    [Fact]
    public void A_dry_run_reports_the_changes_and_makes_none()
    {
        AddUsers("alice");
        var before = _root.Snapshot();
        var create = Check(Group(gid: 2345, members: ["alice"]));
        Assert.Equal(before, _root.Snapshot());
        Apply(Group(gid: 2345));
        before = _root.Snapshot();

        var change = Check(Group(gid: 2346, members: ["alice"]));
        var remove = Check(Group(ensure: Ensure.Absent));

        Assert.Equal((ResourceAction.Created, "created group meshers (gid 2345, members alice)"), (create.Action, create.Message));
        Assert.Equal((ResourceAction.Changed, "gid 2345 -> 2346, members +alice"), (change.Action, change.Message));
        Assert.Equal((ResourceAction.Removed, "removed group meshers (gid 2345)"), (remove.Action, remove.Message));
        Assert.Equal(before, _root.Snapshot());
    }

    [Fact]
    public void Ensure_absent_removes_the_group_and_then_has_nothing_to_do()
    {
        Apply(Group(gid: 2345));

        var removed = Apply(Group(ensure: Ensure.Absent));

        Assert.Equal((ResourceAction.Removed, "removed group meshers (gid 2345)"), (removed.Action, removed.Message));
        Assert.Null(_root.Entry("group", "meshers"));
        Assert.Null(_root.Entry("gshadow", "meshers"));
        Assert.Equal(ResourceAction.Unchanged, Apply(Group(ensure: Ensure.Absent)).Action);
    }

    [Fact]
    public void The_primary_group_of_a_user_is_not_removed_and_the_user_is_named()
    {
        Apply(Group(gid: 2345));
        UnixAccounts.Run(_root.Path, "useradd", ["--gid", "meshers", "alice"], CancellationToken.None);

        var e = Assert.Throws<ResourceException>(() => Check(Group(ensure: Ensure.Absent)));

        Assert.Equal("group meshers is the primary group of alice: change or remove those users first", e.Message);
        Assert.NotNull(_root.Entry("group", "meshers"));
    }

    [Fact]
    public void A_gid_held_by_another_group_is_refused()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Group(gid: 0)));

        Assert.Equal("gid 0 is already used by group root", e.Message);
        Assert.Null(_root.Entry("group", "meshers"));
    }

    [Fact]
    public void A_member_that_is_not_a_user_fails_an_apply_and_is_noted_in_a_plan()
    {
        var plan = Check(Group(members: ["nobody-here"]));
        var e = Assert.Throws<ResourceException>(() => Apply(Group(members: ["nobody-here"])));

        Assert.Equal("created group meshers (members nobody-here) (user nobody-here does not exist yet)", plan.Message);
        Assert.StartsWith("user nobody-here does not exist on this node", e.Message);
        Assert.Null(_root.Entry("group", "meshers"));
    }

    [Fact]
    public void A_root_without_a_group_file_fails_clearly()
    {
        using var bare = new TempDir();

        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(Group(), new ApplyContext(bare.Path), apply: true, CancellationToken.None));

        Assert.Equal($"group: the root {bare.Path} has no /etc/group", e.Message);
    }
}
