using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Cli;

/// <summary>Prints a dry run: per manifest and node, each resource that would change, with its diff.</summary>
public static class PlanOutput
{
    /// <summary>Exit code: ok when every targeted node answered with a plan that can apply.</summary>
    public static int Print(CliContext ctx, PlanResponse plan)
    {
        var ok = plan.Manifests.All(m => m.Silent.Length == 0 && m.Plans.All(p => p.Succeeded));
        if (ctx.Json)
        {
            ctx.WriteJson(plan);
            return ok ? ExitCodes.Ok : ExitCodes.Failed;
        }
        foreach (var m in plan.Manifests)
        {
            if (m.Targets.Length == 0) ctx.Out.WriteLine($"{m.Manifest}: no node is targeted");
            foreach (var p in m.Plans)
            {
                var changes = p.Resources.Where(r => r.Action != ResourceAction.Unchanged).ToArray();
                ctx.Out.WriteLine(changes.Length == 0 && p.Succeeded
                    ? $"{p.Node}  {m.Manifest}: no changes"
                    : $"{p.Node}  {m.Manifest}: {changes.Length} change(s)" + (p.Succeeded ? "" : $", would fail: {p.Error}"));
                foreach (var r in changes)
                {
                    ctx.Out.WriteLine($"  {Verb(r.Action),-8} {r.Kind} {r.Id}: {r.Message}");
                    if (r.Detail is { Length: > 0 } detail)
                        foreach (var line in detail.TrimEnd('\n').Split('\n')) ctx.Out.WriteLine($"      {line}");
                }
                if (p.Omitted > 0) ctx.Out.WriteLine($"  ({p.Omitted} other resource(s) unchanged or not listed)");
            }
            foreach (var s in m.Silent) ctx.Out.WriteLine($"{s}  {m.Manifest}: no answer (node unreachable or busy)");
        }
        return ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static string Verb(ResourceAction action) => action switch
    {
        ResourceAction.Created => "create",
        ResourceAction.Changed => "change",
        ResourceAction.Removed => "remove",
        ResourceAction.Failed => "FAIL",
        ResourceAction.Skipped => "skip",
        _ => "",
    };
}
