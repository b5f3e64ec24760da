using System.Globalization;
using System.Text.RegularExpressions;

namespace Mesh.Protocol;

/// <summary>
/// Durations as operators write them, in manifests and on the command line alike: 500ms,
/// 30s, 2m, 1h, or a plain number of seconds; kept to whole milliseconds.
/// </summary>
public static partial class Durations
{
    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$")]
    private static partial Regex Pattern();

    /// <summary>False when the text is not a duration; a duration too long for a TimeSpan reads as <see cref="TimeSpan.MaxValue"/>.</summary>
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = Pattern().Match(text);
        if (!match.Success) return false;
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var milliseconds = Math.Round(match.Groups[2].Value switch
        {
            "ms" => number,
            "m" => number * 60_000,
            "h" => number * 3_600_000,
            _ => number * 1000,
        });
        duration = milliseconds >= TimeSpan.MaxValue.TotalMilliseconds ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>One spelling per duration, so "1m" and "60s" give the same canonical bytes.</summary>
    public static string Format(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        return ms % 1000 == 0 ? $"{ms / 1000}s" : $"{ms}ms";
    }
}
