using System.Text;
using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>
/// Manifests arrive over the control API from anyone who can reach it: no YAML may make a node
/// spend unbounded time or memory, or blow its stack, before it is refused.
/// </summary>
public class HostileYamlTests
{
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(5);

    /// <summary>Parses on another thread, so a parser that hangs fails the test instead of the run.</summary>
    private static ManifestError RefusedQuickly(string yaml)
    {
        var parse = Task.Run(() => OnlyErrorIn(yaml));
        Assert.True(parse.Wait(Quickly), $"parsing took longer than {Quickly}");
        return parse.Result;
    }

    /// <summary>
    /// The classic "billion laughs": ten anchored lists of ten aliases to the one before, so the
    /// last one expands to 10^levels values while the text stays a few hundred bytes.
    /// </summary>
    private static string AliasBomb(int levels, bool asKey)
    {
        var yaml = new StringBuilder("manifest: bomb\nvars:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i <= levels; i++)
            yaml.Append($"  l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        yaml.Append(asKey ? $"  ? *l{levels}\n  : boom\n" : $"  boom: *l{levels}\n");
        return yaml.ToString();
    }

    /// <summary>A manifest whose deepest value sits at <paramref name="depth"/> levels, the root mapping being level 1.</summary>
    private static string NestedTo(int depth)
    {
        var lists = depth - 2; // the root mapping, then the value of "vars.x" is the outermost list
        return $"manifest: deep\nvars:\n  x: {new string('[', lists - 1)}[]{new string(']', lists - 1)}\n";
    }

    [Fact]
    public void A_billion_laughs_alias_bomb_is_refused_quickly_with_a_clear_error()
    {
        var error = RefusedQuickly(AliasBomb(levels: 9, asKey: false));

        Assert.Equal($"the manifest holds more than {ManifestParser.MaxValues} values (after expanding aliases)", error.Message);
    }

    [Fact]
    public void An_alias_bomb_used_as_a_mapping_key_is_refused_quickly_too()
    {
        // As a key the expansion would be hashed while the mapping is built: the limit has to hold before that.
        var error = RefusedQuickly(AliasBomb(levels: 12, asKey: true));

        Assert.Contains($"more than {ManifestParser.MaxValues} values", error.Message);
    }

    [Fact]
    public void The_value_limit_counts_from_the_alias_that_crosses_it()
    {
        var error = RefusedQuickly(AliasBomb(levels: 9, asKey: false));

        Assert.Equal(7, error.Line); // "l4" expands to 111 111 values
    }

    [Fact]
    public void Aliases_of_modest_size_are_fine()
    {
        var m = Parse("""
            manifest: shared
            vars:
              defaults: &defaults {port: 80, hosts: [a, b]}
              staging: *defaults
            """);

        Assert.Equal(m.Vars["defaults"]!.ToJsonString(), m.Vars["staging"]!.ToJsonString());
    }

    [Fact]
    public void Nesting_up_to_the_limit_is_accepted() =>
        Assert.Equal("deep", Parse(NestedTo(ManifestParser.MaxDepth)).Name);

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_where_it_crosses_the_limit()
    {
        var error = OnlyErrorIn(NestedTo(ManifestParser.MaxDepth + 1));

        error.AssertAt(3, 6 + ManifestParser.MaxDepth - 2, "", $"nesting deeper than {ManifestParser.MaxDepth} levels");
    }

    [Fact]
    public void Nesting_hundreds_of_thousands_deep_is_refused_without_overflowing_the_stack()
    {
        // A stack overflow cannot be caught: before the limit was enforced on the events, this killed the process.
        var error = RefusedQuickly(NestedTo(400_000));

        Assert.Equal($"nesting deeper than {ManifestParser.MaxDepth} levels", error.Message);
    }

    [Fact]
    public void Nesting_built_up_through_aliases_counts_as_if_expanded()
    {
        var half = ManifestParser.MaxDepth / 2 + 1;
        var error = OnlyErrorIn($"""
            manifest: deep
            vars:
              a: &a {new string('[', half)}{new string(']', half)}
              b: {new string('[', half)}*a{new string(']', half)}
            """);

        Assert.Equal((4, $"nesting deeper than {ManifestParser.MaxDepth} levels"), (error.Line, error.Message));
    }

    [Theory]
    [InlineData("  x: &x [*x]\n")]
    [InlineData("  ? &x [*x]\n  : v\n")]
    // The name given again to a node around the alias: YamlDotNet made a cycle of it, and hashing
    // or converting it overflowed the stack, killing the process (found by ParserFuzzTests).
    [InlineData("  a: &x 1\n  b: &x {k: *x}\n")]
    [InlineData("  a: &x [1]\n  b: &x [[*x]]\n")]
    [InlineData("  a: &x 1\n  ? &x [*x]\n  : v\n")]
    public void An_alias_inside_its_own_anchor_is_refused(string vars)
    {
        var error = RefusedQuickly("manifest: loop\nvars:\n" + vars);

        Assert.Contains("the alias *x does not refer to a complete node anchored before it", error.Message);
    }

    [Fact]
    public void An_anchor_name_given_again_refers_to_the_latest_complete_node()
    {
        var m = Parse("manifest: again\nvars:\n  a: &x 1\n  b: &x [2]\n  c: *x\n");

        Assert.Equal("[\"2\"]", m.Vars["c"]!.ToJsonString());
    }

    [Fact]
    public void An_alias_to_no_anchor_is_reported_where_it_is_used() =>
        OnlyErrorIn("manifest: a\nvars:\n  x: *nowhere\n").AssertAt(3, 6, "", "*nowhere");
}
