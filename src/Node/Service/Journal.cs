using Akka.Configuration;

namespace Mesh.Node.Service;

/// <summary>
/// Logging for journald. systemd sets <c>JOURNAL_STREAM</c> when stdout and stderr go to the
/// journal; journald stamps each line with its own time and reads a leading <c>&lt;N&gt;</c> as the
/// syslog priority (<c>SyslogLevelPrefix</c>, on by default). So under journald the node writes
/// every line without a timestamp and with its priority, and warnings are filed as warnings.
/// </summary>
public static class Journal
{
    public const string Variable = "JOURNAL_STREAM";

    public const int Error = 3;
    public const int Warning = 4;
    public const int Info = 6;
    public const int Debug = 7;

    /// <summary>True when this process's output goes to journald.</summary>
    public static bool Active { get; } = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable));

    /// <summary>
    /// Akka's part: events go through <see cref="JournalLogger"/>, and what Akka prints itself
    /// before its loggers start and after they stop through <see cref="JournalStdoutLogger"/>,
    /// instead of its standard logger, which stamps every line with the time.
    /// </summary>
    public static Config AkkaConfig { get; } = ConfigurationFactory.ParseString($"""
        akka.loggers = ["{Name(typeof(JournalLogger))}"]
        akka.stdout-logger-class = "{Name(typeof(JournalStdoutLogger))}"
        """);

    private static string Name(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>The text with <c>&lt;priority&gt;</c> before each of its lines: journald reads every line as an entry of its own.</summary>
    public static string Prefix(int priority, string text) =>
        string.Join('\n', text.Split('\n').Select(line => $"<{priority}>{line}"));
}
