using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;

namespace Mesh.Protocol.Tasks;

/// <summary>
/// What the author of a task asks for, and what the author's key signs: the command (an argv
/// list, or a script for <c>/bin/sh -c</c>), the target (the manifest target grammar, in flow
/// form, as <c>--target</c> takes it; "" for every node), when it was issued and for how long it
/// may still start (<see cref="Ttl"/>), how long it may run, as whom and where, how many nodes
/// may run it at once (<see cref="Batch"/>, 0: no limit), and its secrets (name → envelope,
/// sealed to the targeted nodes, opened into the environment). The id is chosen by the CLI so
/// that the signature covers it: a signed task cannot be posted twice under two ids.
/// </summary>
public sealed record TaskSpec(
    string Id,
    string[]? Command,
    string? Script,
    string Target,
    DateTimeOffset Issued,
    TimeSpan Ttl,
    TimeSpan Timeout,
    string? User = null,
    string? WorkDir = null,
    int Batch = 0,
    Dictionary<string, string>? Secrets = null)
{
    public const int MaxCommandBytes = 32 * 1024;
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);
    /// <summary>How far a task's issue time may be from the node's clock when it is posted: a signed task cannot be replayed later.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(10);

    private static readonly Regex IdForm = new("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant);
    private static readonly Regex UserForm = new("^[a-z_][a-z0-9_-]{0,31}\\$?$", RegexOptions.CultureInvariant);
    private static readonly Regex SecretName = new("^[A-Za-z_][A-Za-z0-9_]{0,63}$", RegexOptions.CultureInvariant);

    /// <summary>The last moment a node may start it.</summary>
    public DateTimeOffset Expires => Issued + Ttl;

    /// <summary>The text the author's key signs: every field, secrets in name order (compile-time JSON metadata, so the CLI and the node write the same bytes).</summary>
    public byte[] Statement()
    {
        var canonical = this with
        {
            Secrets = Secrets is null ? null : Secrets.OrderBy(s => s.Key, StringComparer.Ordinal).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal),
        };
        return Encoding.UTF8.GetBytes("mesh-task-v1\n" + JsonSerializer.Serialize(canonical, ApiJson.Info<TaskSpec>(ApiJson.Compiled)) + "\n");
    }

    /// <summary>The target it names, parsed as a manifest's target is (every node for "").</summary>
    /// <exception cref="ManifestException">the target does not parse</exception>
    public TargetSpec ParsedTarget() => Target.Length == 0 ? TargetSpec.All : ManifestParser.ParseTarget(Target);

    /// <summary>A short form of the command for tables and the audit trail.</summary>
    public string Describe() => Script is not null
        ? "script: " + Shorten(Script.ReplaceLineEndings(" ").Trim())
        : Shorten(string.Join(' ', (Command ?? []).Select(a => a.Contains(' ') || a.Length == 0 ? $"'{a}'" : a)));

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";

    /// <summary>
    /// What is wrong with the task, each problem naming the field (as the CLI's option) and why;
    /// empty when nothing is. <paramref name="now"/>: the checking node's clock.
    /// </summary>
    public IReadOnlyList<string> Problems(DateTimeOffset now)
    {
        var problems = new List<string>();
        if (Id is null || !IdForm.IsMatch(Id)) problems.Add($"id '{Id}': 1 to 64 lower-case letters, digits and '-'");
        if (Command is null == Script is null)
            problems.Add("give either a command (a list of arguments) or a script (text for /bin/sh -c), not both and not neither");
        if (Command is not null)
        {
            if (Command.Length == 0 || string.IsNullOrWhiteSpace(Command[0])) problems.Add("command: the list is empty or its first element (the program) is blank");
            else if (Command.Any(a => a is null || a.Contains('\0'))) problems.Add("command: an argument is null or holds a NUL character");
            else if (Command.Sum(a => Encoding.UTF8.GetByteCount(a)) > MaxCommandBytes) problems.Add($"command: longer than {MaxCommandBytes / 1024} KiB");
        }
        if (Script is not null)
        {
            if (string.IsNullOrWhiteSpace(Script)) problems.Add("script: empty");
            else if (Script.Contains('\0')) problems.Add("script: holds a NUL character");
            else if (Encoding.UTF8.GetByteCount(Script) > MaxCommandBytes) problems.Add($"script: longer than {MaxCommandBytes / 1024} KiB");
        }
        if (Target is null) problems.Add("target: missing (\"\" targets every node)");
        else if (Target.Length > 0)
        {
            try
            {
                ManifestParser.ParseTarget(Target);
            }
            catch (ManifestException e)
            {
                problems.AddRange(e.Errors.Select(err => $"--target: {err.Message}"));
            }
        }
        if (Ttl <= TimeSpan.Zero || Ttl > MaxTtl) problems.Add($"--ttl {Ttl}: must be positive and at most {MaxTtl.TotalDays:0} days");
        if (Timeout <= TimeSpan.Zero || Timeout > MaxTimeout) problems.Add($"--timeout {Timeout}: must be positive and at most {MaxTimeout.TotalHours:0} hours");
        if (Batch < 0) problems.Add($"--batch {Batch}: must be 0 (no limit) or more");
        if (User is not null && !UserForm.IsMatch(User)) problems.Add($"--user '{User}': not a user name");
        if (WorkDir is not null && (!WorkDir.StartsWith('/') || WorkDir.Contains('\0'))) problems.Add($"--cwd '{WorkDir}': must be an absolute path");
        foreach (var (name, value) in Secrets ?? [])
        {
            if (!SecretName.IsMatch(name)) problems.Add($"--secret {name}: the name must be an environment variable name (letters, digits, '_')");
            if (!SecretBox.IsEnvelope(value) || SecretBox.Problem(value) is not null) problems.Add($"--secret {name}: not a sealed envelope");
        }
        if ((Issued - now).Duration() > MaxSkew)
            problems.Add($"issued {Issued:O}, more than {MaxSkew.TotalMinutes:0} minutes from this node's clock ({now:O}): check the clocks, or a replayed task");
        return problems;
    }
}
