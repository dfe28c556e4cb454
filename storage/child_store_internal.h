// Internals shared by the child_store_*.cc files. Not part of the storage interface.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/child_store.h"

namespace cp {

struct ChildStore::Handles {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all;  // every family opened, for cleanup
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* children = nullptr;
  rocksdb::ColumnFamilyHandle* hidden = nullptr;
  rocksdb::ColumnFamilyHandle* sources = nullptr;
  rocksdb::ColumnFamilyHandle* name_index = nullptr;
  rocksdb::ColumnFamilyHandle* id_index = nullptr;
  rocksdb::ColumnFamilyHandle* place_index = nullptr;
  rocksdb::ColumnFamilyHandle* accounts = nullptr;
  rocksdb::ColumnFamilyHandle* audit = nullptr;
  rocksdb::ColumnFamilyHandle* audit_index = nullptr;
  std::shared_ptr<rocksdb::Cache> cache;

  ~Handles();
};

// One key-value pair bound for a column family.
struct Entry {
  uint32_t cf_id;
  rocksdb::ColumnFamilyHandle* cf;
  std::string key;
  std::string value;
};

// Appends every entry a new child writes: record, sealed hidden fields, index postings
// and the sealed source link. `child.record.id` must be assigned and `child.record.sources`
// must hold `child.source`. InvalidArgument for an index token outside 1..255 bytes.
Status AppendNewChildEntries(ChildStore::Handles* h, const Crypto& crypto,
                             const IndexPolicy& policy, const NewChild& child,
                             std::vector<Entry>* out);

// Orders entries by column family, then key.
void SortEntries(std::vector<Entry>* entries);

// Converts a RocksDB status, naming what was being done.
Status FromRocks(const rocksdb::Status& s, std::string_view doing);

// Associated data binding sealed hidden fields to their child.
std::string HiddenAssociatedData(ChildId id);

}  // namespace cp
