using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// <c>mesh.clock { }</c>: how far apart the members' clocks may be before a node says so and
/// the odd one out stamps its versions with the majority's time, how often a node reads its
/// peers' clocks, and a shift of this node's own clock (a test aid: a node minutes ahead).
/// </summary>
public sealed record ClockSettings(TimeSpan MaxSkew, TimeSpan ProbeInterval, TimeSpan Offset)
{
    public static readonly ClockSettings Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), TimeSpan.Zero);

    public static ClockSettings From(Config mesh)
    {
        var maxSkew = mesh.GetTimeSpan("clock.max-skew", Default.MaxSkew);
        if (maxSkew < TimeSpan.FromSeconds(1)) throw new ConfigurationException("mesh.clock.max-skew must be at least 1s");
        var probe = mesh.GetTimeSpan("clock.probe-interval", Default.ProbeInterval);
        if (probe < TimeSpan.FromMilliseconds(100)) throw new ConfigurationException("mesh.clock.probe-interval must be at least 100ms");
        return new ClockSettings(maxSkew, probe, SignedDuration(mesh.GetString("clock.offset", "0s"), "mesh.clock.offset"));
    }

    /// <summary>HOCON durations are never negative; an offset may be ("-5m": behind).</summary>
    private static TimeSpan SignedDuration(string text, string key)
    {
        var trimmed = text.Trim();
        var negative = trimmed.StartsWith('-');
        try
        {
            var span = ConfigurationFactory.ParseString($"v = {trimmed.TrimStart('-', '+')}").GetTimeSpan("v");
            return negative ? -span : span;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{key} '{text}' is not a duration (e.g. 5m, -30s)");
        }
    }
}
