namespace Mesh.Cli;

/// <summary>Durations given as options (--timeout, --since): the grammar manifests use, and positive.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text, string option) =>
        Mesh.Protocol.Durations.TryParse(text.Trim(), out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new CliException(ExitCodes.Invalid, $"{option} '{text}' is not a duration (e.g. 500ms, 30s, 2m)");
}
