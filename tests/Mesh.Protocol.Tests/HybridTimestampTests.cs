using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Tests;

/// <summary>Timestamps order the same way on every node, and travel as text.</summary>
public class HybridTimestampTests
{
    private static HybridTimestamp At(long wall, int counter, string node) => new(wall, counter, node);

    /// <summary>Each entry is strictly less than the next, by wall time, then counter, then node name.</summary>
    private static readonly HybridTimestamp[] Ascending =
    [
        At(999, 65_535, "z"),
        At(1_000, 0, "web-1"),
        At(1_000, 0, "web-2"),
        At(1_000, 1, "a"),
        At(1_000, 1, "b"),
        At(1_000, 2, "a"),
        At(1_001, 0, "a"),
    ];

    private static readonly HybridTimestamp[] Shuffled = [.. Ascending.OrderBy(t => t.Node).ThenByDescending(t => t.Counter)];

    [Fact]
    public void Order_is_by_wall_time_then_counter_then_node_name()
    {
        Assert.NotEqual(Ascending, Shuffled);

        Assert.Equal(Ascending, Shuffled.Order());
    }

    [Fact]
    public void Order_is_total_every_pair_compares_one_way()
    {
        foreach (var (a, i) in Ascending.Select((t, i) => (t, i)))
            foreach (var (b, j) in Ascending.Select((t, j) => (t, j)))
            {
                Assert.Equal(i.CompareTo(j), Math.Sign(a.CompareTo(b)));
                Assert.Equal(i > j, a > b);
                Assert.Equal(i < j, a < b);
            }
    }

    [Fact]
    public void Node_names_compare_by_ordinal_not_by_culture() =>
        Assert.True(At(1, 0, "Z") < At(1, 0, "a"));

    [Fact]
    public void Any_timestamp_is_greater_than_none() =>
        Assert.True(At(0, 0, "a").CompareTo(null) > 0);

    [Fact]
    public void Packed_orders_like_the_timestamp_itself()
    {
        var distinctWallAndCounter = Ascending.DistinctBy(t => (t.WallMs, t.Counter)).ToArray();

        Assert.Equal(distinctWallAndCounter, distinctWallAndCounter.Reverse().OrderBy(t => t.Packed));
    }

    [Fact]
    public void Packed_holds_wall_time_above_a_sixteen_bit_counter()
    {
        Assert.Equal((1_000L << 16) + 5, At(1_000, 5, "a").Packed);
        Assert.True(At(1_000, HybridTimestamp.MaxCounter, "a").Packed < At(1_001, 0, "a").Packed);
    }

    [Fact]
    public void Text_form_is_wall_dot_counter_at_node() =>
        Assert.Equal("1764220065123.2@web-1", At(1_764_220_065_123, 2, "web-1").ToString());

    [Theory]
    [InlineData(0L, 0, "a")]
    [InlineData(1_764_220_065_123L, 2, "web-1")]
    [InlineData(1_764_220_065_123L, HybridTimestamp.MaxCounter, "web.eu-1.example.com")]
    [InlineData(long.MaxValue, 7, "odd@name")]
    public void Text_form_parses_back_to_the_same_timestamp(long wall, int counter, string node)
    {
        var original = At(wall, counter, node);

        Assert.True(HybridTimestamp.TryParse(original.ToString(), out var parsed));
        Assert.Equal(original, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("1764220065123.2")]
    [InlineData("1764220065123@web-1")]
    [InlineData(".2@web-1")]
    [InlineData("1764220065123.@web-1")]
    [InlineData("1764220065123.2@")]
    [InlineData("-1.2@web-1")]
    [InlineData("1.-2@web-1")]
    [InlineData(" 1.2@web-1")]
    [InlineData("1.2.3@web-1")]
    [InlineData("1e3.2@web-1")]
    [InlineData("1.65536@web-1")]
    [InlineData("99999999999999999999.2@web-1")]
    [InlineData("@1.2")]
    public void Garbage_does_not_parse(string text)
    {
        Assert.False(HybridTimestamp.TryParse(text, out var parsed));
        Assert.Null(parsed);
    }

    [Fact]
    public void Time_is_the_wall_clock_part_as_a_date() =>
        Assert.Equal(DateTimeOffset.Parse("2025-11-27T05:07:45.123Z"), At(1_764_220_065_123, 9, "a").Time);
}
