using Mesh.Protocol.Manifests;

namespace Mesh.Protocol.Tests;

/// <summary>Resources apply in manifest order, except that a resource always comes after what it requires.</summary>
public class ResourceGraphTests
{
    /// <summary>Resources written as "id" or "id: dep dep".</summary>
    private static ResourceSpec[] Resources(params string[] lines) =>
        [.. lines.Select(line =>
        {
            var parts = line.Split(':', 2);
            var requires = parts.Length == 2 ? parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
            return new FileResource(parts[0], requires, "/" + parts[0], Ensure.Present, null, null);
        })];

    private static string[] OrderOf(params string[] lines) => [.. ResourceGraph.Order(Resources(lines)).Select(r => r.Id)];

    private static string[]? CycleIn(params string[] lines) => ResourceGraph.FindCycle(Resources(lines));

    [Fact]
    public void Without_dependencies_the_manifest_order_is_kept() =>
        Assert.Equal(["c", "a", "b"], OrderOf("c", "a", "b"));

    [Fact]
    public void A_dependency_written_later_is_moved_before_its_dependent() =>
        Assert.Equal(["dir", "conf", "other"], OrderOf("conf: dir", "dir", "other"));

    [Fact]
    public void Dependencies_come_first_all_the_way_down_a_chain() =>
        Assert.Equal(["a", "b", "c", "d"], OrderOf("d: c", "c: b", "b: a", "a"));

    [Fact]
    public void A_shared_dependency_appears_once_before_all_its_dependents() =>
        Assert.Equal(["base", "left", "right", "top"], OrderOf("top: left right", "left: base", "right: base", "base"));

    [Fact]
    public void Dependencies_are_taken_in_the_order_they_are_listed() =>
        Assert.Equal(["y", "x", "app"], OrderOf("app: y x", "x", "y"));

    [Fact]
    public void Resources_unrelated_to_a_moved_dependency_keep_their_places() =>
        Assert.Equal(["one", "two", "lib", "app", "three"], OrderOf("one", "two", "app: lib", "three", "lib"));

    [Fact]
    public void Every_resource_appears_exactly_once()
    {
        var order = OrderOf("a: b c", "b: c", "c", "d: a c");

        Assert.Equal(["a", "b", "c", "d"], order.Order());
    }

    [Fact]
    public void An_acyclic_graph_has_no_cycle() =>
        Assert.Null(CycleIn("top: left right", "left: base", "right: base", "base"));

    [Theory]
    [InlineData(new[] { "a: a" }, new[] { "a", "a" })]
    [InlineData(new[] { "a: b", "b: a" }, new[] { "a", "b", "a" })]
    [InlineData(new[] { "start: a", "a: b", "b: c", "c: a" }, new[] { "a", "b", "c", "a" })]
    public void A_cycle_is_named_by_its_ids_with_the_first_repeated_at_the_end(string[] lines, string[] cycle) =>
        Assert.Equal(cycle, CycleIn(lines));

    [Fact]
    public void Requires_naming_no_resource_is_no_cycle_and_does_not_change_the_order()
    {
        Assert.Null(CycleIn("a: ghost", "b"));
        Assert.Equal(["a", "b"], OrderOf("a: ghost", "b"));
    }
}
