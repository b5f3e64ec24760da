using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A command to run. <c>command</c> is either a list of arguments, run as it is (no shell), or
/// one string, run with <c>/bin/sh -c</c>. It runs in <c>cwd</c> (a path under the node's root;
/// the root itself by default) with the node's environment plus <c>env</c>, and is killed,
/// with every process it started, after <c>timeout</c> (default 300s).
/// <para>
/// Guards keep a command from running when there is nothing to do, so a second apply changes
/// nothing: <c>creates</c> (skip when that path exists), <c>unless</c> (skip when that command
/// exits 0) and <c>only_if</c> (skip when that command exits non-zero). A <c>refresh_only</c>
/// command runs only when a resource that notifies it changed. A dry run evaluates the guards,
/// as Puppet and mgmt do, so a plan says whether the command would run: <c>unless</c> and
/// <c>only_if</c> must therefore only look, never change anything. The command itself never
/// runs in a dry run.
/// </para>
/// </summary>
public sealed record ExecResource(string Id, string[] Requires, ExecCommand Command)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "exec";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    /// <summary>Longer than a day is certainly a mistake: an apply waits for its commands.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    public override string Kind => KindName;

    /// <summary>Working directory, a manifest path; null means the node's root.</summary>
    public string? Cwd { get; init; }

    /// <summary>Variables added to (or replacing those of) the node's environment.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>A manifest path: the command is skipped while it exists.</summary>
    public string? Creates { get; init; }

    /// <summary>The command is skipped when this one exits 0.</summary>
    public ExecCommand? Unless { get; init; }

    /// <summary>The command is skipped when this one exits non-zero.</summary>
    public ExecCommand? OnlyIf { get; init; }

    /// <summary>Runs only when a resource that notifies it changed, never on its own.</summary>
    public bool RefreshOnly { get; init; }

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var command = ReadCommand(f, "command", required: true);
        var cwd = ReadPath(f, "cwd");
        var env = ReadEnv(f);
        var timeout = ReadTimeout(f);
        var creates = ReadPath(f, "creates");
        var unless = ReadCommand(f, "unless", required: false);
        var onlyIf = ReadCommand(f, "only_if", required: false);
        var refreshOnly = f.Bool("refresh_only") ?? false;

        return new ExecResource(id, requires, command ?? ExecCommand.Shell(""))
        {
            Cwd = cwd,
            Env = env,
            Timeout = timeout,
            Creates = creates,
            Unless = unless,
            OnlyIf = onlyIf,
            RefreshOnly = refreshOnly,
        };
    }

    internal override void WriteFields(JsonObject into)
    {
        into["command"] = Command.ToJson();
        if (Cwd is not null) into["cwd"] = Cwd;
        if (Env.Count > 0) into["env"] = new JsonObject(Env.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value)));
        // Spelt out even when it is the default: a stored revision keeps its meaning if the default ever changes.
        into["timeout"] = Durations.Format(Timeout);
        if (Creates is not null) into["creates"] = Creates;
        if (Unless is not null) into["unless"] = Unless.ToJson();
        if (OnlyIf is not null) into["only_if"] = OnlyIf.ToJson();
        if (RefreshOnly) into["refresh_only"] = "true";
    }

    /// <summary>A command as either form: a string (for the shell) or a non-empty list of arguments.</summary>
    private static ExecCommand? ReadCommand(FieldReader f, string key, bool required)
    {
        const string Shape = "must be a command: a string (run with /bin/sh -c) or a list of arguments";
        var node = f.Raw(key);
        switch (node)
        {
            case null:
                if (required) f.Context.Error(f.Node, f.Field(key), "is required");
                return null;
            case YamlScalarNode scalar when FieldReader.IsNull(scalar):
                f.Context.Error(node, f.Field(key), Shape);
                return null;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (text.Trim().Length == 0) f.Context.Error(node, f.Field(key), "is empty");
                else if (text.Contains('\0')) f.Context.Error(node, f.Field(key), "contains a NUL character");
                else return ExecCommand.Shell(text);
                return null;
            case YamlSequenceNode list:
                var argv = f.StringList(key);
                if (list.Children.Count == 0)
                {
                    f.Context.Error(node, f.Field(key), "is an empty list: give the program, then its arguments");
                    return null;
                }
                if (argv.Length != list.Children.Count) return null; // an item that is not a string is already reported
                if (argv[0].Length == 0)
                {
                    f.Context.Error(list.Children[0], $"{f.Field(key)}[0]", "names no program");
                    return null;
                }
                var nul = Array.FindIndex(argv, a => a.Contains('\0'));
                if (nul >= 0)
                {
                    f.Context.Error(list.Children[nul], $"{f.Field(key)}[{nul}]", "contains a NUL character");
                    return null;
                }
                return ExecCommand.Arguments(argv);
            default:
                f.Context.Error(node, f.Field(key), Shape);
                return null;
        }
    }

    private static string? ReadPath(FieldReader f, string key)
    {
        var path = f.String(key);
        if (path is null) return null;
        if (ResourceFields.PathProblem(path) is { } problem)
        {
            f.Context.Error(f.Raw(key)!, f.Field(key), $"'{path}' {problem}");
            return null;
        }
        return path;
    }

    private static Dictionary<string, string> ReadEnv(FieldReader f)
    {
        var env = f.StringMap("env");
        if (f.Raw("env") is not YamlMappingNode map) return env;
        foreach (var (key, _) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                f.Context.Error(key, $"{f.Field("env")}.{name}", $"'{name}' is not an environment variable name");
            else if (env.TryGetValue(name, out var value) && value.Contains('\0'))
                f.Context.Error(key, $"{f.Field("env")}.{name}", "contains a NUL character");
        }
        return env;
    }

    private static TimeSpan ReadTimeout(FieldReader f)
    {
        var text = f.String("timeout");
        if (text is null) return DefaultTimeout;
        if (Durations.TryParse(text, out var t) && t >= TimeSpan.FromMilliseconds(1) && t <= MaxTimeout) return t;
        f.Context.Error(f.Raw("timeout")!, f.Field("timeout"),
            $"'{text}' is not a timeout between 1ms and 24h (e.g. 500ms, 30s, 5m, 1h; a plain number is seconds)");
        return DefaultTimeout;
    }
}

/// <summary>
/// A command as the manifest gives it: a list of arguments (the first names the program) or
/// a shell string. The arguments are passed to the program one by one, never joined into a
/// shell line, so no argument is ever re-split or expanded.
/// </summary>
public sealed record ExecCommand
{
    public const string ShellProgram = "/bin/sh";

    private ExecCommand(string? shellText, string[] arguments)
    {
        ShellText = shellText;
        Argv = arguments;
    }

    /// <summary>The shell string, when the command is one; null for an argument list.</summary>
    public string? ShellText { get; }

    /// <summary>The argument list, when the command is one; empty for a shell string.</summary>
    public string[] Argv { get; }

    public static ExecCommand Shell(string text) => new(text, []);

    public static ExecCommand Arguments(params string[] argv) => new(null, argv.ToArray());

    /// <summary>What is started: the argument list, or <c>/bin/sh -c TEXT</c>.</summary>
    public string[] ToArgv() => ShellText is null ? Argv.ToArray() : [ShellProgram, "-c", ShellText];

    internal JsonNode ToJson() => ShellText is not null
        ? JsonValue.Create(ShellText)
        : new JsonArray(Argv.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());

    public bool Equals(ExecCommand? other) =>
        other is not null && ShellText == other.ShellText && Argv.SequenceEqual(other.Argv);

    public override int GetHashCode() => Argv.Aggregate(ShellText?.GetHashCode() ?? 0, HashCode.Combine);

    /// <summary>A one-line form for messages: the shell string, or the arguments quoted where needed.</summary>
    public override string ToString()
    {
        var text = ShellText ?? string.Join(' ', Argv.Select(Quote));
        var firstLine = text.Split('\n')[0];
        const int Max = 120;
        return firstLine.Length > Max ? firstLine[..Max] + " …" : firstLine.Length < text.TrimEnd('\n').Length ? firstLine + " …" : firstLine;
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '=' or ':' or ',' or '+' or '@' or '%')
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";
}
