using System.Globalization;

namespace Mesh.Protocol.Versioning;

/// <summary>
/// A hybrid logical clock reading: wall-clock milliseconds, a counter for events within the
/// same millisecond (or when the wall clock lags a peer's), and the node that made it, which
/// breaks ties. The order is total and the same on every node.
/// </summary>
public sealed record HybridTimestamp(long WallMs, int Counter, string Node) : IComparable<HybridTimestamp>
{
    public const int MaxCounter = 0xFFFF;

    /// <summary>Wall time and counter in one number that orders like the timestamp (node aside).</summary>
    public long Packed => (WallMs << 16) | (uint)Counter;

    public int CompareTo(HybridTimestamp? other)
    {
        if (other is null) return 1;
        var c = WallMs.CompareTo(other.WallMs);
        if (c != 0) return c;
        c = Counter.CompareTo(other.Counter);
        return c != 0 ? c : string.CompareOrdinal(Node, other.Node);
    }

    public static bool operator >(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) > 0;
    public static bool operator <(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) < 0;

    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds(WallMs);

    /// <summary>"1764220065123.2@web-1": sortable as text within one node, readable by people.</summary>
    public override string ToString() => $"{WallMs}.{Counter}@{Node}";

    public static bool TryParse(string text, out HybridTimestamp? timestamp)
    {
        timestamp = null;
        var at = text.IndexOf('@');
        if (at <= 0) return false;
        var dot = text.IndexOf('.');
        if (dot <= 0 || dot > at) return false;
        if (!long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var wall)) return false;
        if (!int.TryParse(text.AsSpan(dot + 1, at - dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var counter)) return false;
        // A counter past MaxCounter would spill into the wall bits of Packed; a timestamp always names its node.
        if (counter > MaxCounter || at == text.Length - 1) return false;
        timestamp = new HybridTimestamp(wall, counter, text[(at + 1)..]);
        return true;
    }
}
