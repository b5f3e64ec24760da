using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Mesh.Node.Facts;

/// <summary>
/// The built-in facts of this host, read cheaply from files the kernel and the OS keep
/// (/etc/os-release, /proc, the dpkg status file, statvfs through DriveInfo): no process is started.
/// Only values that stay put while the host runs are gathered (disk sizes, not free space; the
/// boot time, not the uptime), so that facts are rewritten, and gossiped, only when something changed.
/// </summary>
public static class HostFacts
{
    public static readonly string[] Names =
        ["hostname", "os", "os_version", "os_name", "kernel", "arch", "cpus", "memory_mb", "disks", "addresses", "boot_time", "packages"];

    /// <summary>At most this many addresses and disks: a host with hundreds of veth pairs must not blow up its facts.</summary>
    public const int MaxListed = 8;

    public static JsonObject Gather()
    {
        var release = OsRelease();
        return new JsonObject
        {
            ["hostname"] = Environment.MachineName,
            ["os"] = release.GetValueOrDefault("ID", "linux"),
            ["os_version"] = release.GetValueOrDefault("VERSION_ID", ""),
            ["os_name"] = release.GetValueOrDefault("PRETTY_NAME", RuntimeInformation.OSDescription),
            ["kernel"] = Read("/proc/sys/kernel/osrelease")?.Trim() ?? Environment.OSVersion.Version.ToString(),
            ["arch"] = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
            ["cpus"] = Environment.ProcessorCount,
            ["memory_mb"] = MemoryMb(),
            ["disks"] = new JsonArray(Disks().ToArray()),
            ["addresses"] = new JsonArray(Addresses().Select(a => (JsonNode?)a).ToArray()),
            ["boot_time"] = BootTime(),
            ["packages"] = InstalledPackages(),
        };
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Dictionary<string, string> OsRelease()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (Read("/etc/os-release") ?? Read("/usr/lib/os-release") ?? "").Split('\n'))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"');
        }
        return values;
    }

    /// <summary>MemTotal of /proc/meminfo; what the runtime sees when there is none.</summary>
    private static long MemoryMb()
    {
        var line = (Read("/proc/meminfo") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        return kb is not null && long.TryParse(kb, CultureInfo.InvariantCulture, out var k) ? k / 1024 : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024);
    }

    /// <summary>The boot time in Unix seconds (btime of /proc/stat), to the minute: the kernel's figure wobbles by a second.</summary>
    private static long BootTime()
    {
        var line = (Read("/proc/stat") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("btime ", StringComparison.Ordinal));
        return line is not null && long.TryParse(line[6..].Trim(), CultureInfo.InvariantCulture, out var btime) ? btime / 60 * 60 : 0;
    }

    /// <summary>Packages dpkg has installed ("Status: install ok installed" in its status file); 0 without dpkg.</summary>
    private static int InstalledPackages()
    {
        try
        {
            return File.ReadLines("/var/lib/dpkg/status").Count(l => l == "Status: install ok installed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Mounted block-device file systems: mount point and size.</summary>
    private static IEnumerable<JsonNode?> Disks()
    {
        DriveInfo[] drives;
        try
        {
            drives = DriveInfo.GetDrives();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        var listed = 0;
        foreach (var drive in drives.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            if (listed == MaxListed) yield break;
            long size;
            try
            {
                if (drive.DriveType != DriveType.Fixed || !drive.IsReady || Directory.Exists(drive.Name) is false) continue;
                size = drive.TotalSize / (1024 * 1024);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (size == 0) continue;
            listed++;
            yield return new JsonObject { ["mount"] = drive.Name, ["size_mb"] = size, ["type"] = drive.DriveFormat };
        }
    }

    /// <summary>The host's addresses, those other hosts can reach first (IPv4, then IPv6, loopback and link-local last).</summary>
    private static IEnumerable<string> Addresses()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .OrderBy(a => System.Net.IPAddress.IsLoopback(a) ? 3 : a.IsIPv6LinkLocal ? 2 : a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
                .ThenBy(a => a.ToString(), StringComparer.Ordinal)
                .Select(a => a.ToString())
                .Distinct()
                .Take(MaxListed)
                .ToArray();
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }
}
