using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The <c>user</c> kind: its fields, their validation and its canonical form.</summary>
public sealed class UserResourceTests
{
    private static UserResource OnlyUser(string yaml) => (UserResource)Assert.Single(Parse(yaml).Resources);

    private static void AssertUserError(string flow, string field, string at, string says) =>
        AssertResourceError(flow, $"resources[0] (usr).{field}", at, says);

    private const string Full = """
        manifest: web
        resources:
          - id: usr
            type: user
            name: deploy
            uid: "2001"
            group: deploy
            groups: [www-data, adm]
            home: /srv/deploy
            shell: /bin/bash
            comment: "Deploy bot, ops team"
            system: true
        """;

    [Fact]
    public void Every_field_is_read_and_groups_are_kept_sorted()
    {
        var u = OnlyUser(Full);

        Assert.Equal(("usr", "user", "deploy", Ensure.Present, (long?)2001, "deploy"), (u.Id, u.Kind, u.Name, u.Ensure, u.Uid, u.Group));
        Assert.Equal(["adm", "www-data"], u.Groups!);
        Assert.Equal(("/srv/deploy", "/bin/bash", "Deploy bot, ops team", true), (u.Home, u.Shell, u.Comment, u.System));
    }

    [Fact]
    public void A_user_with_only_a_name_leaves_every_other_field_alone()
    {
        var u = OnlyUser(OneResource("{id: usr, type: user, name: deploy}"));

        Assert.Equal((Ensure.Present, (long?)null, (string?)null, (string[]?)null, (string?)null, (string?)null, (string?)null, false),
            (u.Ensure, u.Uid, u.Group, u.Groups, u.Home, u.Shell, u.Comment, u.System));
    }

    [Fact]
    public void The_primary_group_can_be_given_as_a_gid_and_means_the_same_as_that_number_as_group()
    {
        var byGid = Parse(OneResource("{id: usr, type: user, name: deploy, gid: 100}"));
        var byGroup = Parse(OneResource("{id: usr, type: user, name: deploy, group: '0100'}"));

        Assert.Equal("100", ((UserResource)byGid.Resources[0]).Group);
        Assert.Equal(CanonicalForm.ToBytes(byGid), CanonicalForm.ToBytes(byGroup));
    }

    [Fact]
    public void Gid_and_group_together_are_refused() =>
        AssertUserError("{id: usr, type: user, name: deploy, gid: 100, group: users}", "group", "users", "not both");

    [Fact]
    public void An_empty_group_list_means_no_supplementary_groups() =>
        Assert.Equal([], OnlyUser(OneResource("{id: usr, type: user, name: deploy, groups: []}")).Groups!);

    [Fact]
    public void A_user_without_a_name_is_reported_at_the_resource() =>
        AssertUserError("{id: usr, type: user}", "name", "{", "is required");

    [Theory]
    [InlineData("Deploy")]
    [InlineData("-deploy")]
    [InlineData("1000")]
    [InlineData("de ploy")]
    [InlineData("root:x")]
    [InlineData("a-name-that-is-longer-than-32-chars")]
    public void A_name_that_useradd_would_refuse_is_refused(string name) =>
        AssertUserError($"{{id: usr, type: user, name: '{name}'}}", "name", $"'{name}'", "is not a user name");

    [Theory]
    [InlineData("-1")]
    [InlineData("1000.5")]
    [InlineData("4294967295")]
    [InlineData("root")]
    public void A_uid_is_a_whole_number_that_fits(string uid) =>
        AssertUserError($"{{id: usr, type: user, name: deploy, uid: '{uid}'}}", "uid", $"'{uid}'", $"'{uid}' is not a uid");

    [Theory]
    [InlineData("group", "Users", "is not a group name")]
    [InlineData("group", "99999999999", "is not a gid")]
    [InlineData("gid", "users", "is not a gid")]
    public void The_primary_group_is_a_group_name_or_a_gid(string field, string value, string says) =>
        AssertUserError($"{{id: usr, type: user, name: deploy, {field}: '{value}'}}", field, $"'{value}'", says);

    [Fact]
    public void A_supplementary_group_that_is_not_a_group_name_is_reported_at_its_entry() =>
        AssertUserError("{id: usr, type: user, name: deploy, groups: [adm, 'bad group']}", "groups[1]", "'bad group'", "is not a group name");

    [Theory]
    [InlineData("home", "srv/deploy", "must be absolute")]
    [InlineData("home", "/srv/../root", "escapes the root")]
    [InlineData("home", "/srv/a:b", "must not contain ':'")]
    [InlineData("shell", "bash", "must be absolute")]
    public void Home_and_shell_are_absolute_paths_that_fit_in_the_passwd_file(string field, string value, string says) =>
        AssertUserError($"{{id: usr, type: user, name: deploy, {field}: '{value}'}}", field, $"'{value}'", says);

    [Fact]
    public void A_comment_cannot_hold_a_colon() =>
        AssertUserError("{id: usr, type: user, name: deploy, comment: 'a: b'}", "comment", "'a: b'", "must not contain ':'");

    [Fact]
    public void System_must_be_a_boolean() =>
        AssertUserError("{id: usr, type: user, name: deploy, system: maybe}", "system", "maybe", "'maybe' is not a boolean");

    [Theory]
    [InlineData("uid: '5'")]
    [InlineData("group: users")]
    [InlineData("groups: []")]
    [InlineData("home: /home/x")]
    [InlineData("shell: /bin/sh")]
    [InlineData("comment: x")]
    [InlineData("system: true")]
    public void An_absent_user_takes_no_other_field(string extra) =>
        AssertUserError($"{{id: usr, type: user, name: deploy, ensure: absent, {extra}}}", "ensure", "absent", "an absent user takes no uid");

    [Fact]
    public void An_unknown_field_lists_the_fields_of_a_user()
    {
        const string Flow = "{id: usr, type: user, name: deploy, password: x}";
        AssertUserError(Flow, "password", "password", "unknown field");
        Assert.Contains("comment, ensure, gid, group, groups, home, id, name, notify, requires, shell, subscribe, system, type, uid",
            OnlyErrorIn(OneResource(Flow)).Message);
    }

    [Fact]
    public void Several_errors_of_one_user_are_all_reported_on_their_lines()
    {
        var errors = ErrorsIn("""
            manifest: web
            resources:
              - id: usr
                type: user
                name: Deploy
                uid: lots
                groups: [adm, adm]
                shell: bash
            """);

        Assert.Equal(
            [(5, "resources[0] (usr).name"), (6, "resources[0] (usr).uid"), (7, "resources[0] (usr).groups[1]"), (8, "resources[0] (usr).shell")],
            errors.Select(e => (e.Line, e.Field)));
    }

    [Theory]
    [InlineData(Full)]
    [InlineData("manifest: web\nresources:\n  - {id: usr, type: user, name: deploy}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: usr, type: user, name: deploy, groups: [], comment: ''}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: usr, type: user, name: deploy, gid: '0', system: false}\n")]
    [InlineData("manifest: web\nresources:\n  - {id: usr, type: user, name: deploy, ensure: absent}\n")]
    public void The_canonical_form_parses_back_to_the_same_bytes(string yaml)
    {
        var bytes = CanonicalForm.ToBytes(ManifestParser.Parse(yaml, "x.yaml"));
        var parsed = (UserResource)CanonicalForm.FromBytes(bytes, "canonical").Resources[0];

        Assert.Equal(bytes, CanonicalForm.ToBytes(ManifestParser.Parse(Encoding.UTF8.GetString(bytes), "x.yaml")));
        var original = OnlyUser(yaml);
        Assert.Equal(original.Groups, parsed.Groups);
        Assert.Equal(original with { Groups = null }, parsed with { Groups = null, Requires = original.Requires });
    }

    [Fact]
    public void The_canonical_form_leaves_defaults_out() =>
        Assert.Contains("""{"id":"usr","name":"deploy","type":"user"}""",
            Encoding.UTF8.GetString(CanonicalForm.ToBytes(Parse(OneResource("{id: usr, type: user, name: deploy, ensure: present, system: false}")))));
}
