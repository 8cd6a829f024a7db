// Package fsutil owns the durable-write recipe that cairn's files share:
// how a file is replaced so that a crash leaves either the old content or
// the new one, never a mix, and how a change to a directory (a create, a
// rename, a remove) is made to survive a crash.
//
// # Replacing a file
//
// WriteFileAtomic and WriteAtomic replace the file at path in five steps:
//
//  1. create (or truncate) path+".tmp" (TempSuffix) in the same directory;
//  2. write the new content into it;
//  3. fsync it, so its data is on disk before its name is;
//  4. close it and rename it over path (atomic within one file system);
//  5. fsync the directory, so the rename itself is on disk.
//
// Until step 4 path holds the old content (or is absent); after step 5 it
// holds the new content durably. A failure in steps 1 to 4 removes the
// temporary file and leaves path as it was. A crash (rather than an error)
// in steps 1 to 4 may leave path+".tmp" behind: the owner of the directory
// removes such leftovers when it opens it (package snapshot's OpenDir does).
// For example, writing cluster.json leaves, at each point:
//
//	before step 4:  cluster.json (old)  cluster.json.tmp (new, maybe partial)
//	after step 4:   cluster.json (new)
//
// A caller that writes its temporary file itself (to preallocate it, or
// because a library such as bbolt writes it) does steps 1 to 3 on its own
// and calls Rename for steps 4 and 5.
//
// # Directories
//
// POSIX makes an entry of a directory (its name pointing at a file) durable
// only when the directory itself is fsynced; fsyncing the file is not enough
// on every file system. SyncDir does that, after creating, renaming or
// removing files that must stay created, renamed or removed.
package fsutil
