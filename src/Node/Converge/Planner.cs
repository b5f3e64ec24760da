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

    public Planner(ConvergerSetup setup)
    {
        ReceiveAsync<PlanRequest>(async request =>
        {
            var sender = Sender;
            var report = await Task.Run(() => Plan(setup, request.Revision));
            sender.Tell(report.Compact());
        });
    }

    private static async Task<ApplyReport> Plan(ConvergerSetup setup, RevisionRecord revision)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var manifest = await setup.Loader.LoadAsync(revision, $"{revision.Manifest} (dry run)");
            return setup.Engine.Plan(setup.Identity.Name, revision, manifest, setup.Context);
        }
        catch (Exception e) when (e is BlobUnavailableException or ManifestException)
        {
            return ApplyEngine.Failure(setup.Identity.Name, revision, e.Message, clock.ElapsedMilliseconds);
        }
    }

    public static Props Props(ConvergerSetup setup) => Akka.Actor.Props.Create(() => new Planner(setup));
}
