using System.Globalization;

namespace Mesh.Cli;

/// <summary>Durations as operators type them: 500ms, 30s, 2m, 1h, or plain seconds.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text, string option)
    {
        var t = text.Trim();
        (string Number, Func<double, TimeSpan> Unit) split =
            t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], TimeSpan.FromMilliseconds)
            : t.EndsWith('s') ? (t[..^1], TimeSpan.FromSeconds)
            : t.EndsWith('m') ? (t[..^1], TimeSpan.FromMinutes)
            : t.EndsWith('h') ? (t[..^1], TimeSpan.FromHours)
            : (t, TimeSpan.FromSeconds);
        if (double.TryParse(split.Number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
            return split.Unit(n);
        throw new CliException(ExitCodes.Invalid, $"{option} '{text}' is not a duration (e.g. 500ms, 30s, 2m)");
    }
}
