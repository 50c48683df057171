//! Sigma logsource categories for Windows, and how Sysmon event ids map to
//! them.

/// A Sigma `logsource: category` (with `product: windows`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Sysmon 1.
    ProcessCreation,
    /// Sysmon 5.
    ProcessTermination,
    /// Sysmon 7.
    ImageLoad,
    /// Sysmon 11.
    FileEvent,
    /// Sysmon 23 and 26.
    FileDelete,
    /// Kernel-File ETW rename.
    FileRename,
    /// Sysmon 2 (file creation time changed).
    FileChange,
    /// Kernel-File ETW access.
    FileAccess,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 8] = [
        Category::ProcessCreation,
        Category::ProcessTermination,
        Category::ImageLoad,
        Category::FileEvent,
        Category::FileDelete,
        Category::FileRename,
        Category::FileChange,
        Category::FileAccess,
    ];

    /// Number of categories.
    pub const COUNT: usize = Self::ALL.len();

    /// The Sigma name.
    pub const fn name(self) -> &'static str {
        match self {
            Category::ProcessCreation => "process_creation",
            Category::ProcessTermination => "process_termination",
            Category::ImageLoad => "image_load",
            Category::FileEvent => "file_event",
            Category::FileDelete => "file_delete",
            Category::FileRename => "file_rename",
            Category::FileChange => "file_change",
            Category::FileAccess => "file_access",
        }
    }

    /// The category with this Sigma name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The category of a Sysmon event id, if Vigil handles it.
    pub const fn from_sysmon_event_id(id: u32) -> Option<Self> {
        Some(match id {
            1 => Category::ProcessCreation,
            2 => Category::FileChange,
            5 => Category::ProcessTermination,
            7 => Category::ImageLoad,
            11 => Category::FileEvent,
            23 | 26 => Category::FileDelete,
            _ => return None,
        })
    }
}
