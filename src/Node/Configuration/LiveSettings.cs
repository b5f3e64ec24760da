using Akka.Configuration;
using Akka.Event;
using Mesh.Protocol.Signing;

namespace Mesh.Node.Configuration;

/// <summary>
/// The part of a node's settings that may change while it runs (SIGHUP): who it trusts, how
/// often it re-checks, how much it logs. Immutable: a reload makes a new one.
/// </summary>
public sealed record ReloadableSettings(TrustList Trust, TimeSpan RecheckInterval, double RecheckJitter, LogLevel LogLevel)
{
    public static ReloadableSettings From(NodeSettings settings, Config config) =>
        new(settings.Trust, settings.RecheckInterval, settings.RecheckJitter, ReadLogLevel(config));

    /// <summary><c>akka.loglevel</c>, refused (as a configuration error) when Akka would not know it.</summary>
    private static LogLevel ReadLogLevel(Config config)
    {
        var text = config.GetString("akka.loglevel", "INFO");
        return text.ToUpperInvariant() switch
        {
            "DEBUG" => LogLevel.DebugLevel,
            "INFO" => LogLevel.InfoLevel,
            "WARNING" => LogLevel.WarningLevel,
            "ERROR" => LogLevel.ErrorLevel,
            _ => throw new ConfigurationException($"akka.loglevel = '{text}': expected DEBUG, INFO, WARNING or ERROR"),
        };
    }

    /// <summary>What differs from <paramref name="before"/>, one phrase each, for the log; empty when nothing does.</summary>
    public IReadOnlyList<string> ChangesFrom(ReloadableSettings before)
    {
        var changes = new List<string>();
        if (Describe(Trust) != Describe(before.Trust)) changes.Add($"trust list: {Describe(before.Trust)} -> {Describe(Trust)}");
        if (RecheckInterval != before.RecheckInterval) changes.Add($"mesh.converge.interval: {before.RecheckInterval} -> {RecheckInterval}");
        if (RecheckJitter != before.RecheckJitter) changes.Add($"mesh.converge.jitter: {before.RecheckJitter} -> {RecheckJitter}");
        if (LogLevel != before.LogLevel) changes.Add($"akka.loglevel: {Name(before.LogLevel)} -> {Name(LogLevel)}");
        return changes;
    }

    /// <summary>The keys a reload cannot apply: changed under <c>mesh</c> or <c>akka</c> between two configurations, sorted.</summary>
    public static IReadOnlyList<string> RestartOnly(Config running, Config reread)
    {
        var (before, after) = (Flatten(running), Flatten(reread));
        return before.Keys.Union(after.Keys)
            .Where(k => !Reloadable.Any(r => k == r || k.StartsWith(r + ".", StringComparison.Ordinal)))
            .Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>What <see cref="ReloadableSettings"/> holds, as configuration keys.</summary>
    private static readonly string[] Reloadable = ["mesh.trusted-keys", "mesh.converge.interval", "mesh.converge.jitter", "akka.loglevel"];

    private static Dictionary<string, string> Flatten(Config config)
    {
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in new[] { "mesh", "akka" })
            if (config.GetConfig(section) is { IsEmpty: false } part) Flatten(part.Root, section, leaves);
        return leaves;
    }

    private static void Flatten(Akka.Configuration.Hocon.HoconValue value, string path, Dictionary<string, string> leaves)
    {
        if (!value.IsObject())
        {
            leaves[path] = value.ToString();
            return;
        }
        foreach (var (key, child) in value.GetObject().Items) Flatten(child, path + "." + key, leaves);
    }

    public static string Name(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "DEBUG",
        LogLevel.InfoLevel => "INFO",
        LogLevel.WarningLevel => "WARNING",
        _ => "ERROR",
    };

    private static string Describe(TrustList trust) =>
        trust.Enforced ? string.Join(", ", trust.Entries.Select(k => $"{k.Name} ({k.Key.Id}{(k.Allows == TrustPermission.Push ? "" : ", " + k.Allows.ToString().ToLowerInvariant())})")) : "none (unsigned changes accepted)";
}

/// <summary>
/// The node's current <see cref="ReloadableSettings"/>, swapped whole by a reload and read by
/// whoever needs them at the moment they need them (<c>Revisions</c> at each push, the converger
/// at each decision), so no reader ever sees half of an old and half of a new configuration.
/// One holder outlives the node's incarnations: a node that rejoins keeps what was reloaded.
/// </summary>
public sealed class LiveSettings(ReloadableSettings initial)
{
    private volatile ReloadableSettings _current = initial;

    public ReloadableSettings Current => _current;

    /// <summary>Makes <paramref name="next"/> current; returns the one it replaced.</summary>
    public ReloadableSettings Swap(ReloadableSettings next) => Interlocked.Exchange(ref _current, next);
}
