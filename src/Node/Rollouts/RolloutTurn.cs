using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Rollouts;

/// <summary>
/// This node's turn in a rollout, run by the converger off its actor thread: pull the new
/// revision (before anything else, so a body that cannot be fetched yet never leaves the node
/// drained), drain, apply, run the health checks, undrain. A step that fails ends the turn
/// failed with its reason; with on_failure: rollback the node applies the previous revision
/// again (nothing when there was none) and, once the same checks pass again, undrains (it
/// stays drained, and says so, when they do not). Each step is reported as it is reached.
/// </summary>
public static class RolloutTurn
{
    public static async Task<TurnResult> RunAsync(ConvergerSetup setup, RolloutRecord rollout, RevisionRecord revision, Action<RolloutStep> report,
        CancellationToken cancel)
    {
        var node = setup.Identity.Name;
        var policy = rollout.Policy;
        var env = new Dictionary<string, string>
        {
            ["MESH_NODE"] = node,
            ["MESH_MANIFEST"] = revision.Manifest,
            ["MESH_VERSION"] = revision.Version.ToString(),
            ["MESH_ROOT"] = setup.Context.Root,
        };
        RolloutStep Step(RolloutStage stage, string? reason = null, bool rolledBack = false)
        {
            var step = new RolloutStep(revision.Manifest, revision.Version, node, stage, reason, DateTimeOffset.UtcNow, rolledBack);
            report(step);
            return step;
        }

        Manifest manifest = null!;
        try
        {
            manifest = await setup.Loader.LoadAsync(revision, $"{revision.Manifest}@{revision.Version}", cancel);
        }
        catch (Exception e) when (e is BlobUnavailableException or DiskFullException)
        {
            return new TurnResult(ApplyEngine.Failure(node, revision, e.Message, 0), null, null, null, Retry: true, Unfetched: e as BlobUnavailableException);
        }
        catch (ManifestException e)
        {
            return await FailAsync(ApplyEngine.Failure(node, revision, e.Message, 0), $"apply: {e.Message}", drained: false);
        }

        if (policy.Drain is { } drain)
        {
            Step(RolloutStage.Draining);
            if (await HealthProbe.RunAsync(drain, env, cancel) is { } why)
                return await FailAsync(null, $"drain: {why}", drained: true);
        }
        Step(RolloutStage.Applying);
        var applied = setup.Engine.Apply(node, revision, manifest, setup.Context, cancel);
        if (!applied.Succeeded) return await FailAsync(applied, $"apply: {applied.Error ?? FirstFailure(applied)}", drained: policy.Drain is not null);

        if (policy.Health.Length > 0)
        {
            Step(RolloutStage.Checking);
            foreach (var check in policy.Health)
                if (await HealthProbe.CheckAsync(check, env, cancel) is { } why)
                    return await FailAsync(applied, $"health: {check}: {why}", drained: policy.Drain is not null);
        }
        if (policy.Undrain is { } undrain)
        {
            Step(RolloutStage.Undraining);
            if (await HealthProbe.RunAsync(undrain, env, cancel) is { } why)
                return await FailAsync(applied, $"undrain: {why}", drained: true);
        }
        return new TurnResult(applied, revision, manifest, Step(RolloutStage.Healthy), Retry: false);

        // The new revision failed here: back to the previous one (or left as it is, on_failure: halt).
        async Task<TurnResult> FailAsync(ApplyReport? newReport, string reason, bool drained)
        {
            var failed = (newReport ?? ApplyEngine.Failure(node, revision, reason, 0)) with { Outcome = ApplyOutcome.Failed, Error = reason };
            if (policy.OnFailure == RolloutFailure.Halt && newReport is not null)
                return new TurnResult(failed, revision, manifest, Step(RolloutStage.Failed, reason), Retry: false);

            RevisionRecord? holds = null;
            Manifest? held = null;
            if (rollout.Previous is { Deleted: false } previous && newReport is not null)
            {
                try
                {
                    held = await setup.Loader.LoadAsync(previous, $"{previous.Manifest}@{previous.Version}", cancel);
                    var back = setup.Engine.Apply(node, previous, held, setup.Context, cancel);
                    holds = previous;
                    if (!back.Succeeded) reason += $"; going back to {previous.Version} failed too: {back.Error ?? FirstFailure(back)}";
                }
                catch (Exception e) when (e is BlobUnavailableException or ManifestException)
                {
                    reason += $"; going back to {previous.Version} failed: {e.Message}";
                }
            }
            else if (rollout.Previous is { Deleted: false } untouched)
            {
                // Nothing of the new revision was applied (its drain failed): the host still holds the previous one.
                holds = untouched;
                held = await setup.Loader.LoadAsync(untouched, $"{untouched.Manifest}@{untouched.Version}", cancel);
            }
            if (drained && policy.Undrain is { } undrainBack)
            {
                // Back in service only once the same checks pass again: a service that restarts must not take traffic before it answers.
                string? unhealthy = null;
                foreach (var check in policy.Health)
                    if ((unhealthy = await HealthProbe.CheckAsync(check, env, cancel)) is not null)
                    {
                        unhealthy = $"{check}: {unhealthy}";
                        break;
                    }
                if (unhealthy is not null) reason += $"; still unhealthy after going back ({unhealthy}), left drained";
                else if (await HealthProbe.RunAsync(undrainBack, env, cancel) is { } notBack) reason += $"; undrain after going back failed: {notBack}";
            }
            var final = holds is not null ? $"{reason}; back on {holds.Version}" : reason;
            return new TurnResult(failed with { Error = final }, holds, held, Step(RolloutStage.Failed, final, rolledBack: true), Retry: false);
        }
    }

    private static string FirstFailure(ApplyReport report) =>
        report.Resources.FirstOrDefault(r => r.Action == ResourceAction.Failed) is { } r ? $"{r.Id}: {r.Message}" : "failed";
}

/// <summary>
/// How a turn ended: the report to publish, the revision the node now holds (null: none of this
/// manifest) and its manifest, its last step (null when it must be tried again: a body not fetched
/// yet, <see cref="Unfetched"/> says why).
/// </summary>
public sealed record TurnResult(ApplyReport Report, RevisionRecord? Holds, Manifest? Manifest, RolloutStep? Final, bool Retry,
    BlobUnavailableException? Unfetched = null);
