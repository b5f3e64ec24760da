using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Mesh.Node.Service;

/// <summary>
/// Akka's logger under journald (<c>akka.loggers</c>, set by <see cref="Journal.AkkaConfig"/>):
/// one line per event on stdout, <c>&lt;N&gt;[source] message</c>, no timestamp.
/// </summary>
public sealed class JournalLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public JournalLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            // The filters of the actor system's setup (Observability.DisassociatedErrorFilter), as Akka's console logger applies them.
            if (Context.System.Settings.LogFilter.ShouldTryKeepMessage(e, out _)) Console.Out.WriteLine(Line(e));
        });
    }

    public static string Line(LogEvent e)
    {
        var text = $"[{e.LogSource}] {e.Message}";
        if (e.Cause is { } cause) text += $": {cause}";
        return Journal.Prefix(Priority(e.LogLevel()), text);
    }

    private static int Priority(LogLevel level) => level switch
    {
        LogLevel.ErrorLevel => Journal.Error,
        LogLevel.WarningLevel => Journal.Warning,
        LogLevel.InfoLevel => Journal.Info,
        _ => Journal.Debug,
    };
}

/// <summary>Akka's minimal logger under journald (<c>akka.stdout-logger-class</c>): what Akka logs while no logger actor runs, in the same form.</summary>
public sealed class JournalStdoutLogger : MinimalLogger
{
    protected override void Log(object message) =>
        Console.Out.WriteLine(message is LogEvent e ? JournalLogger.Line(e) : Journal.Prefix(Journal.Info, message.ToString() ?? ""));
}
