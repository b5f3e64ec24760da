using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>A manifest reaches a node when every criterion it gives holds: any listed role, all labels, any node glob.</summary>
public class TargetingTests
{
    private static readonly NodeIdentity Web1 = Node("web-1", roles: ["web", "edge"], ("env", "prod"), ("zone", "eu-1"));
    private static readonly NodeIdentity Db1 = Node("db-1", roles: ["db"], ("env", "prod"));

    private static NodeIdentity Node(string name, string[] roles, params (string Key, string Value)[] labels) =>
        new(name, roles.ToHashSet(), labels.ToDictionary(l => l.Key, l => l.Value));

    private static TargetSpec Target(string[]? roles = null, string[]? nodes = null, params (string Key, string Value)[] labels) =>
        new(roles ?? [], labels.ToDictionary(l => l.Key, l => l.Value), nodes ?? []);

    [Fact]
    public void An_empty_target_matches_every_node()
    {
        Assert.True(TargetSpec.All.Matches(Web1));
        Assert.True(TargetSpec.All.Matches(Node("bare", [])));
    }

    [Fact]
    public void A_node_with_any_of_the_roles_matches()
    {
        var target = Target(roles: ["db", "edge"]);

        Assert.True(target.Matches(Web1));
        Assert.True(target.Matches(Db1));
        Assert.False(target.Matches(Node("cache-1", ["cache"])));
    }

    [Fact]
    public void A_node_must_carry_all_of_the_labels_with_the_same_values()
    {
        var target = Target(labels: [("env", "prod"), ("zone", "eu-1")]);

        Assert.True(target.Matches(Web1));
        Assert.False(target.Matches(Db1)); // no zone
        Assert.False(target.Matches(Node("web-9", ["web"], ("env", "prod"), ("zone", "us-1"))));
    }

    [Fact]
    public void Label_values_compare_exactly() =>
        Assert.False(Target(labels: ("env", "prod")).Matches(Node("web-9", [], ("env", "Prod"))));

    [Fact]
    public void A_node_whose_name_matches_any_of_the_globs_matches()
    {
        var target = Target(nodes: ["web-*", "db-?"]);

        Assert.True(target.Matches(Web1));
        Assert.True(target.Matches(Db1));
        Assert.False(target.Matches(Node("db-12", ["db"])));
        Assert.False(target.Matches(Node("cache-1", [])));
    }

    [Fact]
    public void Every_given_criterion_must_hold()
    {
        var target = Target(roles: ["web"], nodes: ["*-1"], labels: ("env", "prod"));

        Assert.True(target.Matches(Web1));
        Assert.False(target.Matches(Db1)); // label and name fit, role does not
        Assert.False(target.Matches(Node("web-2", ["web"], ("env", "prod")))); // role and label fit, name does not
        Assert.False(target.Matches(Node("web-1", ["web"], ("env", "dev")))); // role and name fit, label does not
    }

    [Fact]
    public void A_parsed_target_selects_the_nodes_it_describes()
    {
        var target = Parse("""
            manifest: web
            target:
              roles: [web]
              labels: {env: prod}
              nodes: ["web-*"]
            """).Target;

        Assert.True(target.Matches(Web1));
        Assert.False(target.Matches(Db1));
    }

    [Fact]
    public void A_target_describes_itself_in_one_line()
    {
        Assert.Equal("all", TargetSpec.All.ToString());
        Assert.Equal("roles=web,edge labels=env=prod,zone=eu-1 nodes=web-*", Target(["web", "edge"], ["web-*"], ("zone", "eu-1"), ("env", "prod")).ToString());
    }

    [Theory]
    [InlineData("web-1", "web-1", true)]
    [InlineData("web-1", "web-10", false)]
    [InlineData("web-1", "xweb-1", false)]
    [InlineData("web-*", "web-", true)]
    [InlineData("web-*", "web-eu-1", true)]
    [InlineData("web-*", "db-1", false)]
    [InlineData("*-1", "web-1", true)]
    [InlineData("*-1", "web-12", false)]
    [InlineData("web-?", "web-1", true)]
    [InlineData("web-?", "web-", false)]
    [InlineData("web-?", "web-12", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("*ab", "aab", true)]
    [InlineData("*a*a*a", "banana", true)]
    [InlineData("**", "anything", true)]
    [InlineData("*", "", true)]
    [InlineData("?", "", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("Web-*", "web-1", false)]
    [InlineData("web.?", "web.1", true)]
    [InlineData("web.?", "webx1", false)]
    public void Node_globs_use_star_for_any_run_and_question_mark_for_one_character(string pattern, string name, bool matches) =>
        Assert.Equal(matches, Glob.IsMatch(pattern, name));
    [Fact]
    public void A_command_line_target_is_the_target_section_in_flow_form()
    {
        var target = ManifestParser.ParseTarget("{roles: [web], labels: {env: prod}, nodes: ['web-*']}");

        Assert.Equal(["web"], target.Roles);
        Assert.Equal("prod", target.Labels["env"]);
        Assert.True(target.Matches(Web1));
        Assert.False(target.Matches(Db1));
    }

    [Theory]
    [InlineData("", "the target is empty")]
    [InlineData("web", "a target is a mapping")]
    [InlineData("{roles: [web], colour: blue}", "colour")]
    [InlineData("{roles: [web}", "invalid target")]
    public void A_bad_command_line_target_is_refused_naming_the_option(string text, string expected)
    {
        var e = Assert.Throws<ManifestException>(() => ManifestParser.ParseTarget(text));

        Assert.All(e.Errors, error => Assert.Equal("--target", error.Source));
        Assert.Contains(expected, e.Message);
    }
}
