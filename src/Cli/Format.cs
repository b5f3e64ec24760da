using Mesh.Protocol.Wire;

namespace Mesh.Cli;

/// <summary>How values read in tables and lines.</summary>
public static class Format
{
    public static string ShortHash(string hash) => hash.Length > 12 ? hash[..12] : hash;

    public static string Age(DateTimeOffset time)
    {
        var age = DateTimeOffset.UtcNow - time;
        return age.TotalSeconds < 60 ? $"{Math.Max(0, (int)age.TotalSeconds)}s ago"
            : age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes}m ago"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h ago"
            : time.ToString("yyyy-MM-dd HH:mm");
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes / (1024.0 * 1024):0.#} MiB",
    };

    /// <summary>The warning for a revision a concurrent push overwrote, with what to do about it.</summary>
    public static string LostWrite(Mesh.Protocol.Api.LostWrite lost)
    {
        var r = lost.Revision;
        return $"warning: lost write: {lost.Manifest} {r.Version} by {r.Author} via {r.Origin} at {r.Time:yyyy-MM-dd HH:mm:ss}" +
            (r.Message.Length > 0 ? $" (\"{r.Message}\")" : "") +
            $" was overwritten by {lost.Winner.Version} by {lost.Winner.Author} via {lost.Winner.Origin}, pushed concurrently without seeing it;" +
            $" it is kept in history and applied nowhere (mesh history {lost.Manifest}; to restore it: mesh rollback {lost.Manifest} --to {r.Version})";
    }

    /// <summary>One line for a report, as push --wait and events print it.</summary>
    public static string Report(ApplyReport r) => r.Outcome switch
    {
        ApplyOutcome.Ok => $"ok      {r.Node}  {r.Manifest} {r.Version}  {r.Changed} changed  {r.DurationMs} ms" + (r.Drift ? "  (drift repaired)" : ""),
        ApplyOutcome.Rejected => $"REJECTED {r.Node}  {r.Manifest} {r.Version}  {r.Error}",
        ApplyOutcome.Pending => $"pending {r.Node}  {r.Manifest} {r.Version}  {r.Error}",
        _ => $"FAILED  {r.Node}  {r.Manifest} {r.Version}  {r.Error}",
    };

    /// <summary>One line for one node's answer to a task, as run --wait and task get print it.</summary>
    public static string TaskResult(Mesh.Protocol.Tasks.TaskResult r) =>
        $"{r.State.ToUpperInvariant() switch { "OK" => "ok", var s => s },-9} {r.Node}" +
        (r.ExitCode is { } code ? $"  exit {code}" : "") +
        (r.Duration is { } d ? $"  {d.TotalSeconds:0.###}s" : "") +
        (r.Reason is { } why && r.State != "ok" ? $"  {why}" : "");

    /// <summary>A task's states summed up: "2 ok, 1 failed".</summary>
    public static string TaskStates(IEnumerable<Mesh.Protocol.Tasks.TaskResult> results) =>
        string.Join(", ", results.GroupBy(r => r.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));

    /// <summary>Output captured from a task, indented under its node's line.</summary>
    public static IEnumerable<string> Indented(string? text, string stream) =>
        string.IsNullOrEmpty(text) ? [] : text.TrimEnd('\n').Split('\n').Select(l => $"    {(stream == "stderr" ? "! " : "| ")}{l}");
}
