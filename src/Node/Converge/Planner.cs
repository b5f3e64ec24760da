using System.Diagnostics;
using Akka.Actor;
using Mesh.Node.Content;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Converge;

/// <summary>
/// Answers dry runs: loads the proposed revision (<see cref="RevisionLoader"/>, as an apply
/// does), runs the engine with apply off against this host, and replies with the plan. Plans
/// run beside applies: they only read the host.
/// </summary>
public sealed class Planner : ReceiveActor
{
    public const string Name = "planner";

    /// <summary>Cancelled when the actor stops: a node shutting down does not finish plans nobody will read.</summary>
    private readonly CancellationTokenSource _stopping = new();

    public Planner(ConvergerSetup setup)
    {
        ReceiveAsync<PlanRequest>(async request =>
        {
            var sender = Sender;
            var cancel = _stopping.Token;
            var report = await Task.Run(() => Plan(setup, request.Revision, cancel));
            sender.Tell(report.Compact());
        });
    }

    protected override void PostStop() => _stopping.Cancel();

    private static async Task<ApplyReport> Plan(ConvergerSetup setup, RevisionRecord revision, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var manifest = await setup.Loader.LoadAsync(revision, $"{revision.Manifest} (dry run)", cancel);
            return setup.Engine.Plan(setup.Identity.Name, revision, manifest, setup.Context, cancel);
        }
        catch (Exception e) when (e is BlobUnavailableException or ManifestException)
        {
            return ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds);
        }
    }

    public static Props Props(ConvergerSetup setup) => Akka.Actor.Props.Create(() => new Planner(setup));
}
