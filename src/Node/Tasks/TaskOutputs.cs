using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Tasks;

namespace Mesh.Node.Tasks;

/// <summary>
/// The output of the tasks this node ran, kept whole up to <c>mesh.tasks.output-cap</c> per
/// stream under <c>&lt;data-dir&gt;/tasks/output/</c> (one JSON file per task) for
/// <c>mesh task get ID --node N</c>; beyond <c>mesh.tasks.keep-outputs</c> files the oldest go.
/// </summary>
public sealed class TaskOutputs(string dataDir, int keep)
{
    private readonly string _dir = Path.Combine(dataDir, "tasks", "output");

    public void Save(TaskOutput output)
    {
        Directory.CreateDirectory(_dir);
        try
        {
            Protocol.Files.AtomicFile.Write(PathOf(output.TaskId), JsonSerializer.Serialize(output, ApiJson.Options), Protocol.Files.AtomicFile.OwnerOnly, overwrite: true);
            foreach (var old in new DirectoryInfo(_dir).GetFiles("*.json").OrderByDescending(f => f.LastWriteTimeUtc).Skip(keep))
                old.Delete();
        }
        catch (IOException)
        {
            // A full disk loses the kept copy; the replicated result still holds the start of it.
        }
    }

    public TaskOutput? Read(string taskId)
    {
        try
        {
            return File.Exists(PathOf(taskId)) ? JsonSerializer.Deserialize<TaskOutput>(File.ReadAllText(PathOf(taskId)), ApiJson.Options) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    // Ids are checked ([a-z0-9-]) before a task is recorded, so one is always a plain file name.
    private string PathOf(string taskId) => Path.Combine(_dir, Path.GetFileName(taskId) + ".json");
}
