using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Mesh.Node.Tests.Support;

/// <summary>Collects the warnings and errors a node logs, so a test can wait for a particular one.</summary>
public sealed class LogWatch
{
    private readonly ConcurrentQueue<string> _warnings = new();
    private readonly ConcurrentQueue<string> _errors = new();

    public LogWatch(ActorSystem system)
    {
        var listener = system.ActorOf(Props.Create(() => new Listener(_warnings)));
        system.EventStream.Subscribe(listener, typeof(Warning));
        var errors = system.ActorOf(Props.Create(() => new Listener(_errors)));
        system.EventStream.Subscribe(errors, typeof(Error));
    }

    public IReadOnlyCollection<string> Errors => _errors;

    public int Count(string fragment) => _warnings.Count(w => w.Contains(fragment, StringComparison.Ordinal));

    public IReadOnlyCollection<string> Warnings => _warnings;

    private sealed class Listener : ReceiveActor
    {
        public Listener(ConcurrentQueue<string> warnings) => Receive<LogEvent>(w => warnings.Enqueue(w.Message?.ToString() ?? ""));
    }
}
