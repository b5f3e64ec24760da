using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// How a new revision of a manifest reaches its nodes: in cumulative <see cref="Batches"/>
/// (counts or percentages of the nodes targeted at push time, ending at 100%), canaries first,
/// each node going through its <see cref="Drain"/>, the apply, its <see cref="Health"/> checks
/// and its <see cref="Undrain"/>. More than <see cref="MaxFailures"/> failed nodes halt the
/// rollout: later batches are never touched, failed nodes go back to the previous revision
/// unless <see cref="OnFailure"/> says halt. The manifest's <c>rollout:</c> section, part of its
/// canonical form (and so signed with it); a push may override batches, max_failures and pause.
/// </summary>
public sealed record RolloutPolicy(
    RolloutAmount[] Batches,
    RolloutAmount MaxFailures,
    TimeSpan Pause,
    bool ManualPause,
    RolloutCanary? Canary,
    RolloutFailure OnFailure,
    TimeSpan NodeTimeout,
    RolloutCommand? Drain,
    HealthCheck[] Health,
    RolloutCommand? Undrain)
{
    public static readonly TimeSpan DefaultNodeTimeout = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultCheckTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);
    public const int MaxRetries = 100;

    /// <summary>The policy of a push that gives rollout flags for a manifest without a rollout section: one batch, no steps.</summary>
    public static RolloutPolicy Default => new([new RolloutAmount(100, true)], new RolloutAmount(0, false), TimeSpan.Zero, false, null,
        RolloutFailure.Rollback, DefaultNodeTimeout, null, [], null);

    /// <summary>Whether the rollout waits for <c>mesh rollout resume</c> after batch <paramref name="batch"/> (from 0).</summary>
    public bool ManualAfter(int batch) => batch == 0 && Canary is { Manual: true } || ManualPause;

    /// <summary>How long the rollout waits after batch <paramref name="batch"/> (from 0) before the next one starts.</summary>
    public TimeSpan PauseAfter(int batch) => batch == 0 && Canary is { Pause: { } canaryPause } ? canaryPause : Pause;

    // ---- reading ---------------------------------------------------------------------------------

    internal static RolloutPolicy? Parse(FieldReader manifest, ParseContext context)
    {
        var node = manifest.Raw("rollout");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return null;
        if (node is not YamlMappingNode map)
        {
            context.Error(node, "rollout", "must be a mapping with batches, max_failures, pause, canary, on_failure, node_timeout and steps");
            return null;
        }
        var f = new FieldReader(map, "rollout", context);
        var batches = ReadBatches(f);
        var maxFailures = ReadAmount(f, "max_failures", allowZero: true) ?? new RolloutAmount(0, false);
        var (pause, manual) = ReadPause(f, "pause");
        var canary = ReadCanary(f);
        var onFailure = f.String("on_failure") switch
        {
            null or "rollback" => RolloutFailure.Rollback,
            "halt" => RolloutFailure.Halt,
            var other => Error(f, "on_failure", $"'{other}' is not one of: rollback, halt", RolloutFailure.Rollback),
        };
        var nodeTimeout = ReadDuration(f, "node_timeout", DefaultNodeTimeout, min: TimeSpan.FromSeconds(1));
        var (drain, health, undrain) = ReadSteps(f);
        f.RejectUnknown();
        CheckMaxFailures(batches, maxFailures, context, f.Raw("max_failures") ?? map, f.Field("max_failures"));
        return new RolloutPolicy(batches, maxFailures, pause ?? TimeSpan.Zero, manual, canary, onFailure, nodeTimeout, drain, health, undrain);
    }

    /// <summary>
    /// This policy with a push's flags applied (<c>--batch</c>, <c>--max-failures</c>, <c>--pause</c>),
    /// each read by the same rules as the section; errors name the option.
    /// </summary>
    /// <exception cref="ManifestException">a flag's value is refused</exception>
    public RolloutPolicy Override(string? batches, string? maxFailures, string? pause)
    {
        var errors = new List<ManifestError>();
        var policy = this;
        if (batches is not null)
        {
            var context = new ParseContext("--batch");
            var items = batches.Split(',', StringSplitOptions.TrimEntries);
            var read = CheckBatches(items.Select(i => (i, (YamlNode?)null)).ToArray(), context, "");
            errors.AddRange(context.Errors);
            policy = policy with { Batches = read };
        }
        if (maxFailures is not null)
        {
            var context = new ParseContext("--max-failures");
            if (RolloutAmount.TryParse(maxFailures, allowZero: true) is { } amount) policy = policy with { MaxFailures = amount };
            else context.Error("", $"'{maxFailures}' is not a number of nodes or a percentage (e.g. 1, 10%)");
            errors.AddRange(context.Errors);
        }
        if (pause is not null)
        {
            if (pause == "manual") policy = policy with { ManualPause = true, Pause = TimeSpan.Zero };
            else if (Durations.TryParse(pause, out var p) && p <= MaxDuration) policy = policy with { Pause = p, ManualPause = false };
            else errors.Add(new ManifestError("--pause", 0, 0, "", $"'{pause}' is not a duration up to 24h (e.g. 30s, 2m) or 'manual'"));
        }
        if (errors.Count == 0)
        {
            var context = new ParseContext(maxFailures is not null ? "--max-failures" : batches is not null ? "--batch" : "rollout");
            CheckMaxFailures(policy.Batches, policy.MaxFailures, context, null, "");
            errors.AddRange(context.Errors);
        }
        if (errors.Count > 0) throw new ManifestException(errors);
        return policy;
    }

    private static RolloutAmount[] ReadBatches(FieldReader f)
    {
        var node = f.Raw("batches");
        if (node is null) return [new RolloutAmount(100, true)];
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
        {
            f.Context.Error(node, f.Field("batches"), "must be a non-empty list of node counts or percentages ending at 100%, e.g. [1, 10%, 50%, 100%]");
            return [new RolloutAmount(100, true)];
        }
        var items = seq.Children.Select(c => (c is YamlScalarNode s ? s.Value ?? "" : "", (YamlNode?)c)).ToArray();
        return CheckBatches(items, f.Context, f.Field("batches"), seq);
    }

    /// <summary>Each batch a count or a percentage, counts and percentages each growing, the last one 100%.</summary>
    private static RolloutAmount[] CheckBatches((string Text, YamlNode? Node)[] items, ParseContext context, string field, YamlNode? list = null)
    {
        var result = new List<RolloutAmount>();
        RolloutAmount? lastCount = null, lastPercent = null;
        for (var i = 0; i < items.Length; i++)
        {
            var (text, node) = items[i];
            var at = $"{field}[{i}]";
            if (RolloutAmount.TryParse(text, allowZero: false) is not { } amount)
            {
                Report(context, node, at, $"'{text}' is not a number of nodes (1 or more) or a percentage (1% to 100%)");
                continue;
            }
            var previous = amount.Percent ? lastPercent : lastCount;
            if (previous is not null && amount.Value <= previous.Value)
                Report(context, node, at, $"'{text}' does not grow from '{previous}': batches are cumulative (each says how many nodes have the revision once it is done)");
            if (amount.Percent) lastPercent = amount;
            else lastCount = amount;
            result.Add(amount);
        }
        if (result.Count > 0 && result.Count == items.Length && result[^1] is not { Percent: true, Value: 100 })
            Report(context, items[^1].Node ?? list, $"{field}[{items.Length - 1}]", $"the last batch is '{items[^1].Text}': the batch list must end at 100%");
        return result.Count == 0 ? [new RolloutAmount(100, true)] : result.ToArray();
    }

    /// <summary>A limit a whole batch cannot reach would let a batch fail entirely and the rollout go on: refused.</summary>
    private static void CheckMaxFailures(RolloutAmount[] batches, RolloutAmount max, ParseContext context, YamlNode? node, string field)
    {
        var largest = Largest(batches, max.Percent);
        if (largest is { } size && max.Value > size)
            Report(context, node, field,
                $"max_failures {max} is above the largest batch ({size}{(max.Percent ? "%" : " nodes")}): more nodes than a batch holds could fail and the rollout go on");
    }

    /// <summary>The largest step between consecutive batches of one kind (counts or percentages), or null when there is none to compare with.</summary>
    private static int? Largest(RolloutAmount[] batches, bool percent)
    {
        var of = batches.Where(b => b.Percent == percent).Select(b => b.Value).ToArray();
        if (of.Length == 0) return null;
        var steps = of.Select((v, i) => i == 0 ? v : v - of[i - 1]).ToArray();
        return steps.Max();
    }

    private static RolloutAmount? ReadAmount(FieldReader f, string key, bool allowZero)
    {
        var text = f.String(key);
        if (text is null) return null;
        if (RolloutAmount.TryParse(text, allowZero) is { } amount) return amount;
        f.Context.Error(f.Raw(key)!, f.Field(key), $"'{text}' is not a number of nodes or a percentage (e.g. 1, 10%)");
        return null;
    }

    private static (TimeSpan? Pause, bool Manual) ReadPause(FieldReader f, string key)
    {
        var text = f.String(key);
        if (text is null) return (null, false);
        if (text == "manual") return (TimeSpan.Zero, true);
        if (Durations.TryParse(text, out var pause) && pause <= MaxDuration) return (pause, false);
        f.Context.Error(f.Raw(key)!, f.Field(key), $"'{text}' is not a duration up to 24h (e.g. 30s, 2m) or 'manual'");
        return (null, false);
    }

    private static TimeSpan ReadDuration(FieldReader f, string key, TimeSpan fallback, TimeSpan min)
    {
        var text = f.String(key);
        if (text is null) return fallback;
        if (Durations.TryParse(text, out var d) && d >= min && d <= MaxDuration) return d;
        f.Context.Error(f.Raw(key)!, f.Field(key), $"'{text}' is not a duration between {Durations.Format(min)} and 24h (e.g. 500ms, 30s, 5m)");
        return fallback;
    }

    private static RolloutCanary? ReadCanary(FieldReader f)
    {
        var node = f.Raw("canary");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return null;
        if (node is not YamlMappingNode map)
        {
            f.Context.Error(node, f.Field("canary"), "must be a mapping with nodes and/or labels, and pause");
            return null;
        }
        var c = new FieldReader(map, f.Field("canary"), f.Context);
        var nodes = c.StringList("nodes");
        var labels = c.StringMap("labels");
        var (pause, manual) = ReadPause(c, "pause");
        c.RejectUnknown();
        if (nodes.Length == 0 && labels.Count == 0) f.Context.Error(map, c.Path, "names no canary: give nodes (names or globs) or labels");
        return new RolloutCanary(nodes, labels, pause, manual);
    }

    private static (RolloutCommand? Drain, HealthCheck[] Health, RolloutCommand? Undrain) ReadSteps(FieldReader f)
    {
        var node = f.Raw("steps");
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return (null, [], null);
        if (node is not YamlMappingNode map)
        {
            f.Context.Error(node, f.Field("steps"), "must be a mapping of steps: drain, health, undrain");
            return (null, [], null);
        }
        var path = f.Field("steps");
        var known = new[] { "drain", "health", "undrain" };
        foreach (var (key, _) in map.Children)
            if ((key as YamlScalarNode)?.Value is not { } name || !known.Contains(name))
                f.Context.Error(key, $"{path}.{(key as YamlScalarNode)?.Value}", $"unknown step '{(key as YamlScalarNode)?.Value}' (known: {string.Join(", ", known)}; the apply itself is implied)");
        var steps = new FieldReader(map, path, f.Context);
        var drain = ReadCommand(steps, "drain");
        var undrain = ReadCommand(steps, "undrain");
        var health = ReadHealth(steps);
        return (drain, health, undrain);
    }

    /// <summary>A drain or undrain: a shell string, or a mapping with command and timeout.</summary>
    private static RolloutCommand? ReadCommand(FieldReader f, string key)
    {
        var node = f.Raw(key);
        switch (node)
        {
            case null:
                return null;
            case YamlScalarNode scalar when !FieldReader.IsNull(scalar) && (scalar.Value ?? "").Trim().Length > 0:
                return new RolloutCommand(scalar.Value!, DefaultCommandTimeout);
            case YamlMappingNode map:
                var c = new FieldReader(map, f.Field(key), f.Context);
                var command = c.String("command", required: true);
                var timeout = ReadDuration(c, "timeout", DefaultCommandTimeout, TimeSpan.FromMilliseconds(1));
                c.RejectUnknown();
                if (command is not null && command.Trim().Length == 0) f.Context.Error(map, c.Field("command"), "is empty");
                return command is { Length: > 0 } ? new RolloutCommand(command, timeout) : null;
            default:
                f.Context.Error(node, f.Field(key), "must be a command (a string run with /bin/sh -c) or a mapping with command and timeout");
                return null;
        }
    }

    private static HealthCheck[] ReadHealth(FieldReader f)
    {
        var node = f.Raw("health");
        if (node is null) return [];
        var items = node switch
        {
            YamlSequenceNode seq => seq.Children.ToArray(),
            YamlMappingNode map => [map],
            _ => null,
        };
        if (items is null)
        {
            f.Context.Error(node, f.Field("health"), "must be a check or a list of checks, each with one of command, http, tcp");
            return [];
        }
        var checks = new List<HealthCheck>();
        for (var i = 0; i < items.Length; i++)
        {
            var field = node is YamlSequenceNode ? $"{f.Field("health")}[{i}]" : f.Field("health");
            if (items[i] is not YamlMappingNode map)
            {
                f.Context.Error(items[i], field, "a check is a mapping with one of command, http, tcp");
                continue;
            }
            if (ReadCheck(new FieldReader(map, field, f.Context)) is { } check) checks.Add(check);
        }
        return checks.ToArray();
    }

    private static HealthCheck? ReadCheck(FieldReader c)
    {
        var command = c.String("command");
        var http = c.String("http");
        var tcp = c.String("tcp");
        var body = c.String("body");
        var timeout = ReadDuration(c, "timeout", DefaultCheckTimeout, TimeSpan.FromMilliseconds(1));
        var settle = ReadDuration(c, "settle", TimeSpan.Zero, TimeSpan.Zero);
        var retriesText = c.String("retries");
        var retries = 0;
        if (retriesText is not null && (!int.TryParse(retriesText, NumberStyles.None, CultureInfo.InvariantCulture, out retries) || retries > MaxRetries))
            c.Context.Error(c.Raw("retries")!, c.Field("retries"), $"'{retriesText}' is not a number of retries from 0 to {MaxRetries}");
        c.RejectUnknown();

        var given = new[] { command, http, tcp }.Count(x => x is not null);
        if (given != 1)
        {
            c.Context.Error(c.Node, c.Path, given == 0 ? "gives no check: one of command, http, tcp" : "gives more than one check: one of command, http, tcp per entry");
            return null;
        }
        if (body is not null && http is null) c.Context.Error(c.Raw("body")!, c.Field("body"), "only an http check matches a body");
        if (command is not null)
        {
            if (command.Trim().Length == 0) c.Context.Error(c.Raw("command")!, c.Field("command"), "is empty");
            return new HealthCheck(HealthKind.Command, command, null, timeout, retries, settle);
        }
        if (http is not null)
        {
            if (!Uri.TryCreate(http, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
                c.Context.Error(c.Raw("http")!, c.Field("http"), $"'{http}' is not an http:// or https:// URL");
            return new HealthCheck(HealthKind.Http, http, body, timeout, retries, settle);
        }
        var colon = tcp!.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(tcp[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            c.Context.Error(c.Raw("tcp")!, c.Field("tcp"), $"'{tcp}' is not host:port (port 1 to 65535)");
        return new HealthCheck(HealthKind.Tcp, tcp, null, timeout, retries, settle);
    }

    private static void Report(ParseContext context, YamlNode? node, string field, string message)
    {
        if (node is not null) context.Error(node, field, message);
        else context.Error(field, message);
    }

    private static T Error<T>(FieldReader f, string key, string message, T fallback)
    {
        f.Context.Error(f.Raw(key)!, f.Field(key), message);
        return fallback;
    }

    // ---- canonical form --------------------------------------------------------------------------

    /// <summary>The section as the canonical form writes it: every value spelt out, so a stored revision keeps its meaning if a default changes.</summary>
    internal JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["batches"] = new JsonArray(Batches.Select(b => (JsonNode?)JsonValue.Create(b.ToString())).ToArray()),
            ["max_failures"] = MaxFailures.ToString(),
            ["pause"] = ManualPause ? "manual" : Durations.Format(Pause),
            ["on_failure"] = OnFailure == RolloutFailure.Halt ? "halt" : "rollback",
            ["node_timeout"] = Durations.Format(NodeTimeout),
        };
        if (Canary is { } canary)
        {
            var c = new JsonObject();
            if (canary.Nodes.Length > 0) c["nodes"] = new JsonArray(canary.Nodes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
            if (canary.Labels.Count > 0) c["labels"] = new JsonObject(canary.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
            if (canary.Manual) c["pause"] = "manual";
            else if (canary.Pause is { } p) c["pause"] = Durations.Format(p);
            o["canary"] = c;
        }
        var steps = new JsonObject();
        if (Drain is not null) steps["drain"] = Drain.ToJson();
        if (Undrain is not null) steps["undrain"] = Undrain.ToJson();
        if (Health.Length > 0) steps["health"] = new JsonArray(Health.Select(h => (JsonNode?)h.ToJson()).ToArray());
        if (steps.Count > 0) o["steps"] = steps;
        return o;
    }
}

/// <summary>A number of nodes, or a percentage of the targeted nodes (rounded up).</summary>
public sealed record RolloutAmount(int Value, bool Percent)
{
    /// <summary>How many nodes out of <paramref name="total"/>.</summary>
    public int Of(int total) => Percent ? (int)Math.Ceiling(total * Value / 100.0) : Math.Min(Value, total);

    public static RolloutAmount? TryParse(string text, bool allowZero)
    {
        var percent = text.EndsWith('%');
        var digits = percent ? text[..^1] : text;
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value)) return null;
        if (value < (allowZero ? 0 : 1) || percent && value > 100 || value > 1_000_000) return null;
        return new RolloutAmount(value, percent);
    }

    public override string ToString() => Percent ? $"{Value}%" : Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Nodes that go first (by name or glob, or by labels), and the pause after them (<see cref="Manual"/>: until resumed).</summary>
public sealed record RolloutCanary(string[] Nodes, Dictionary<string, string> Labels, TimeSpan? Pause, bool Manual)
{
    public bool Matches(NodeIdentity node) =>
        Nodes.Any(g => Glob.IsMatch(g, node.Name)) || Labels.Count > 0 && Labels.All(l => node.Labels.TryGetValue(l.Key, out var v) && v == l.Value);
}

/// <summary>A drain or undrain: a shell command that must exit 0 within <see cref="Timeout"/>.</summary>
public sealed record RolloutCommand(string Command, TimeSpan Timeout)
{
    internal JsonObject ToJson() => new() { ["command"] = Command, ["timeout"] = Durations.Format(Timeout) };
}

[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<HealthKind>))]
public enum HealthKind { Command, Http, Tcp }

/// <summary>
/// One health check after the apply: a command that must exit 0, an HTTP GET that must answer
/// 2xx (and contain <see cref="Body"/> when given), or a TCP port that must accept; first after
/// <see cref="Settle"/>, each attempt within <see cref="Timeout"/>, tried again up to <see cref="Retries"/> times.
/// </summary>
public sealed record HealthCheck(HealthKind Kind, string Target, string? Body, TimeSpan Timeout, int Retries, TimeSpan Settle)
{
    public override string ToString() => Kind switch
    {
        HealthKind.Command => $"command '{Target}'",
        HealthKind.Http => Body is null ? $"http {Target}" : $"http {Target} (body '{Body}')",
        _ => $"tcp {Target}",
    };

    internal JsonObject ToJson()
    {
        var o = new JsonObject
        {
            [Kind.ToString().ToLowerInvariant()] = Target,
            ["timeout"] = Durations.Format(Timeout),
            ["retries"] = Retries.ToString(CultureInfo.InvariantCulture),
            ["settle"] = Durations.Format(Settle),
        };
        if (Body is not null) o["body"] = Body;
        return o;
    }
}

/// <summary>What happens to a node whose steps failed: back to the previous revision, or left as it is.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(Api.SnakeCaseEnum<RolloutFailure>))]
public enum RolloutFailure { Rollback, Halt }
