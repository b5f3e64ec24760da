namespace Mesh.Bench;

/// <summary>Progress lines on stderr, so that stdout carries the report alone.</summary>
public static class Progress
{
    public static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
