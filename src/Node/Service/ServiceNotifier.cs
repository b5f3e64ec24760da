namespace Mesh.Node.Service;

/// <summary>
/// Tells the service manager (systemd, when it gave a <c>NOTIFY_SOCKET</c>) and the log how the
/// node is doing: <c>STATUS=</c> while it waits (joining, applying N manifests), <c>READY=1</c>
/// once an incarnation is ready (<see cref="Readiness"/>), <c>RELOADING=1</c> and <c>READY=1</c>
/// around a reload, <c>STOPPING=1</c> when it leaves. Without a socket it only logs "ready".
/// </summary>
public sealed class ServiceNotifier(SystemdNotify? systemd, TextWriter output)
{
    /// <summary>How often readiness is checked until the incarnation is ready; afterwards not at all.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>READY=1 went out once: from then on a reload is framed by RELOADING=1 and READY=1.</summary>
    private volatile bool _ready;

    /// <summary>
    /// Follows one incarnation until it is ready (then says so once) or <paramref name="stop"/>
    /// fires. systemd takes the first <c>READY=1</c> and ignores repeats, so a new incarnation
    /// that becomes ready again changes nothing there but the status line.
    /// </summary>
    public async Task FollowAsync(MeshNode node, CancellationToken stop)
    {
        string? said = null;
        using var timer = new PeriodicTimer(Poll);
        try
        {
            do
            {
                var report = await node.Readiness.CheckAsync();
                if (report.Ready)
                {
                    systemd?.Send("READY=1", "STATUS=ready: member up, caught up with the index");
                    _ready = true;
                    output.WriteLine($"mesh-node {node.Settings.Name}: ready: member up, caught up with the index");
                    return;
                }
                if (report.Reason != said) systemd?.Send($"STATUS={report.Reason}");
                said = report.Reason;
            } while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A reload starts (<c>RELOADING=1</c>, with the monotonic time <c>Type=notify-reload</c>
    /// requires). Before the first READY=1 the node is still starting, and a reload is only news.
    /// </summary>
    public void Reloading()
    {
        if (_ready) systemd?.Send("RELOADING=1", SystemdNotify.MonotonicUsec(), "STATUS=reloading the configuration");
    }

    /// <summary>A reload is over, applied or refused: back to ready (or to starting, with its status).</summary>
    public void Reloaded(string status) => systemd?.Send(_ready ? ["READY=1", $"STATUS={status}"] : [$"STATUS={status}"]);

    /// <summary>The node is leaving the cluster and will exit.</summary>
    public void Stopping() => systemd?.Send("STOPPING=1", "STATUS=leaving the cluster");
}
