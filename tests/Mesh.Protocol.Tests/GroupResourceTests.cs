using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>group</c> kind: its fields, their validation and its canonical form.</summary>
public sealed class GroupResourceTests
{
    private static GroupResource OnlyGroup(string yaml) => (GroupResource)Assert.Single(Parse(yaml).Resources);

    private static void AssertGroupError(string flow, string field, string at, string says) =>
        AssertResourceError(flow, $"resources[0] (grp).{field}", at, says);

    private const string Full = """
        manifest: web
        resources:
          - id: grp
            type: group
            name: deploy
            gid: "2001"
            members: [carol, alice, bob]
        """;

    [Fact]
    public void Every_field_is_read_and_members_are_kept_sorted()
    {
        var g = OnlyGroup(Full);

        Assert.Equal(("grp", "group", "deploy", Ensure.Present, (long?)2001), (g.Id, g.Kind, g.Name, g.Ensure, g.Gid));
        Assert.Equal(["alice", "bob", "carol"], g.Members!);
    }

    [Fact]
    public void Without_gid_or_members_the_group_keeps_its_own()
    {
        var g = OnlyGroup(OneResource("{id: grp, type: group, name: deploy}"));

        Assert.Null(g.Gid);
        Assert.Null(g.Members);
    }

    [Fact]
    public void An_empty_member_list_means_no_members_not_unmanaged() =>
        Assert.Equal([], OnlyGroup(OneResource("{id: grp, type: group, name: deploy, members: []}")).Members!);

    [Fact]
    public void A_group_without_a_name_is_reported_at_the_resource() =>
        AssertGroupError("{id: grp, type: group}", "name", "{", "is required");

    [Theory]
    [InlineData("Deploy")]
    [InlineData("-deploy")]
    [InlineData("2001")]
    [InlineData("dep:loy")]
    [InlineData("a-name-that-is-longer-than-32-chars")]
    public void A_name_that_groupadd_would_refuse_is_refused(string name) =>
        AssertGroupError($"{{id: grp, type: group, name: '{name}'}}", "name", $"'{name}'", "is not a group name");

    [Theory]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("4294967295")]
    [InlineData("99999999999")]
    [InlineData("web")]
    public void A_gid_is_a_whole_number_that_fits(string gid) =>
        AssertGroupError($"{{id: grp, type: group, name: deploy, gid: '{gid}'}}", "gid", $"'{gid}'", $"'{gid}' is not a gid");

    [Fact]
    public void A_member_that_is_not_a_user_name_is_reported_at_its_entry()
    {
        const string Flow = "{id: grp, type: group, name: deploy, members: [alice, Bob]}";
        AssertGroupError(Flow, "members[1]", "Bob", "'Bob' is not a user name");
    }

    [Fact]
    public void A_member_listed_twice_is_reported_at_the_second_entry()
    {
        const string Flow = "{id: grp, type: group, name: deploy, members: [alice, bob, alice]}";
        AssertGroupError(Flow, "members[2]", "alice]", "'alice' is listed twice");
    }

    [Theory]
    [InlineData("gid: '5'")]
    [InlineData("members: [alice]")]
    [InlineData("members: []")]
    public void An_absent_group_takes_no_gid_or_members(string extra) =>
        AssertGroupError($"{{id: grp, type: group, name: deploy, ensure: absent, {extra}}}", "ensure", "absent", "an absent group takes no gid or members");

    [Fact]
    public void An_unknown_field_lists_the_fields_of_a_group()
    {
        const string Flow = "{id: grp, type: group, name: deploy, users: [alice]}";
        AssertGroupError(Flow, "users", "users", "unknown field");
        Assert.Contains("ensure, gid, id, members, name, notify, requires, subscribe, type", OnlyErrorIn(OneResource(Flow)).Message);
    }

    [Theory]
    [InlineData(Full)]
    [InlineData("manifest: web\nresources:\n  - {id: grp, type: group, name: deploy}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: grp, type: group, name: deploy, members: []}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: grp, type: group, name: deploy, ensure: absent}\n")]
    public void The_canonical_form_parses_back_to_the_same_bytes(string yaml)
    {
        var bytes = CanonicalForm.ToBytes(ManifestParser.Parse(yaml, "x.yaml"));
        var parsed = (GroupResource)CanonicalForm.FromBytes(bytes, "canonical").Resources[0];

        Assert.Equal(bytes, CanonicalForm.ToBytes(ManifestParser.Parse(Encoding.UTF8.GetString(bytes), "x.yaml")));
        var original = OnlyGroup(yaml);
        Assert.Equal(original.Members, parsed.Members);
        Assert.Equal(original with { Members = null }, parsed with { Members = null, Requires = original.Requires });
    }

    [Fact]
    public void Spellings_that_mean_the_same_group_have_the_same_canonical_bytes() =>
        Assert.Equal(
            CanonicalForm.ToBytes(Parse(OneResource("{id: grp, type: group, name: deploy, gid: 42, members: [b, a]}"))),
            CanonicalForm.ToBytes(Parse(OneResource("{id: grp, type: group, name: deploy, ensure: present, gid: '0042', members: [a, b]}"))));
}
