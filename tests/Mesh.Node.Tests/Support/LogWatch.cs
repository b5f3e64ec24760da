using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Mesh.Node.Tests.Support;

/// <summary>Collects the warnings a node logs, so a test can wait for a particular one.</summary>
public sealed class LogWatch
{
    private readonly ConcurrentQueue<string> _warnings = new();

    public LogWatch(ActorSystem system)
    {
        var listener = system.ActorOf(Props.Create(() => new Listener(_warnings)));
        system.EventStream.Subscribe(listener, typeof(Warning));
    }

    public int Count(string fragment) => _warnings.Count(w => w.Contains(fragment, StringComparison.Ordinal));

    public IReadOnlyCollection<string> Warnings => _warnings;

    private sealed class Listener : ReceiveActor
    {
        public Listener(ConcurrentQueue<string> warnings) => Receive<Warning>(w => warnings.Enqueue(w.Message?.ToString() ?? ""));
    }
}
