using System.CommandLine;

namespace Mesh.Cli;

/// <summary>
/// Many nodes at a glance, as <c>push --wait</c>, <c>rollback --wait</c> and <c>status</c> show a
/// large fleet: counts by state, a progress bar, and by name only the nodes that need a look
/// (failures with their reasons, then the stragglers). Past <see cref="Threshold"/> lines, a line
/// per node buries the few that matter; <c>--json</c> keeps every detail.
/// </summary>
public static class FleetSummary
{
    /// <summary>Past this many lines (nodes × manifests), a command summarises unless told otherwise.</summary>
    public const int Threshold = 30;

    /// <summary>Entries a group lists before it counts the rest ("and 80 more").</summary>
    public const int Listed = 20;

    /// <summary>Whether to summarise <paramref name="lines"/> lines: as forced (<c>--summary</c>/<c>--table</c>), else past the threshold.</summary>
    public static bool Wanted(int lines, bool? forced) => forced ?? lines > Threshold;

    /// <summary><c>[########............] 40/100</c></summary>
    public static string Bar(int done, int total)
    {
        const int Width = 20;
        var filled = total == 0 ? Width : Math.Clamp(done * Width / total, 0, Width);
        return $"[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total}";
    }

    // The order states are counted in: done first, then under way, then what needs a look.
    private static readonly string[] Order = ["ok", "healthy", "applied", "pending", "applying", "checking", "waiting", "silent", "skipped", "rejected", "failed"];

    /// <summary>"97 ok, 2 pending, 1 failed": each state that occurs, counted, in a fixed order (unknown ones last, by name).</summary>
    public static string Counts(IEnumerable<string> states) =>
        string.Join(", ", states.GroupBy(s => s, StringComparer.Ordinal)
            .OrderBy(g => Array.IndexOf(Order, g.Key) is var i and >= 0 ? i : Order.Length).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} {g.Key}"));

    /// <summary>Names on one line, at most <see cref="Listed"/>: "a, b, c" or "a, b, ... and 80 more".</summary>
    public static string Names(IReadOnlyCollection<string> names) =>
        names.Count <= Listed ? string.Join(", ", names) : $"{string.Join(", ", names.Take(Listed))}, ... and {names.Count - Listed} more";

    /// <summary>
    /// A group with a reason per entry: a heading line ("failed (3):") and an indented line per
    /// entry, at most <see cref="Listed"/>, then how many more and where to see them all.
    /// </summary>
    public static IEnumerable<string> Group(string heading, IReadOnlyCollection<string> entries, string seeAll)
    {
        if (entries.Count == 0) yield break;
        yield return $"{heading} ({entries.Count}):";
        foreach (var entry in entries.Take(Listed)) yield return "  " + entry;
        if (entries.Count > Listed) yield return $"  ... and {entries.Count - Listed} more ({seeAll})";
    }
}

/// <summary>The <c>--summary</c> and <c>--table</c> options of a command that shows many nodes.</summary>
public sealed class SummaryFlags
{
    public Option<bool> Summary { get; }
    public Option<bool> Table { get; }

    /// <param name="what">what the command prints a line of per node, for the help</param>
    public SummaryFlags(string what)
    {
        Summary = new Option<bool>("--summary") { Description = $"counts by state and only the nodes that need a look, by name (the default past {FleetSummary.Threshold} {what})" };
        Table = new Option<bool>("--table") { Description = $"a line per node, however many {what}" };
    }

    /// <summary>true: summarise; false: a line per node; null: as the number of lines decides.</summary>
    public bool? Read(ParseResult parse) => (parse.GetValue(Summary), parse.GetValue(Table)) switch
    {
        (true, true) => throw new CliException(ExitCodes.Invalid, "--summary and --table: choose one"),
        (true, false) => true,
        (false, true) => false,
        _ => null,
    };
}

/// <summary>
/// The live line of a change followed over many nodes: the bar and the counts by state. At a
/// terminal it is rewritten in place (at most ten times a second); into a pipe or a file, a line
/// is printed each time another tenth of the nodes is done, so a log keeps the pace without a
/// line per node.
/// </summary>
public sealed class ProgressLine(CliContext ctx, int total)
{
    private static readonly TimeSpan Redraw = TimeSpan.FromMilliseconds(100);
    private readonly bool _live = ctx.Interactive;
    private DateTime _drawn = DateTime.MinValue;
    private int _tenths;
    private string _shown = "";

    /// <param name="done">nodes whose part is over (ok, failed)</param>
    /// <param name="states">every node's state, to count</param>
    public void Show(int done, IEnumerable<string> states)
    {
        // Counted only when shown: a report per node must not cost a pass over the fleet each.
        if (_live)
        {
            if (DateTime.UtcNow - _drawn < Redraw && done < total) return;
            Draw(Text(done, states));
            return;
        }
        var tenths = total == 0 ? 10 : done * 10 / total;
        if (tenths <= _tenths) return;
        _tenths = tenths;
        Print(Text(done, states));
    }

    /// <summary>A line of its own (a failure as it comes), above the live line.</summary>
    public void Say(string line)
    {
        if (_live && _shown.Length > 0) ctx.Out.Write("\r" + new string(' ', _shown.Length) + "\r");
        _shown = "";
        ctx.Out.WriteLine(line);
    }

    /// <summary>The last state, once more, on a line of its own.</summary>
    public void End(int done, IEnumerable<string> states)
    {
        var text = Text(done, states);
        if (_live)
        {
            Draw(text);
            ctx.Out.WriteLine();
        }
        else if (text != _shown) Print(text);
    }

    private string Text(int done, IEnumerable<string> states) => $"{FleetSummary.Bar(done, total)} {FleetSummary.Counts(states)}";

    private void Draw(string text)
    {
        ctx.Out.Write("\r" + text + new string(' ', Math.Max(0, _shown.Length - text.Length)));
        ctx.Out.Flush();
        _shown = text;
        _drawn = DateTime.UtcNow;
    }

    private void Print(string text)
    {
        ctx.Out.WriteLine(text);
        _shown = text;
    }
}
