//! Which fields the events of each category can carry: Sysmon's EventData
//! fields for the event ids mapped to the category, plus the event-level
//! fields every source sets. The content pipeline checks rule fields
//! against it.

use crate::event::{Category, Field};

/// The fields events of `category` can carry (event-level fields first).
pub fn fields_of(category: Category) -> &'static [Field] {
    use Field as F;
    match category {
        Category::ProcessCreation => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::Image,
            F::FileVersion,
            F::Description,
            F::Product,
            F::Company,
            F::OriginalFileName,
            F::CommandLine,
            F::CurrentDirectory,
            F::User,
            F::LogonGuid,
            F::LogonId,
            F::TerminalSessionId,
            F::IntegrityLevel,
            F::Hashes,
            F::ParentProcessGuid,
            F::ParentProcessId,
            F::ParentImage,
            F::ParentCommandLine,
            F::ParentUser,
        ],
        Category::ProcessTermination => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::Image,
            F::User,
        ],
        Category::ImageLoad => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::Image,
            F::ImageLoaded,
            F::FileVersion,
            F::Description,
            F::Product,
            F::Company,
            F::OriginalFileName,
            F::Hashes,
            F::Signed,
            F::Signature,
            F::SignatureStatus,
            F::User,
        ],
        Category::FileEvent => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::Image,
            F::TargetFilename,
            F::CreationUtcTime,
            F::User,
        ],
        Category::FileDelete => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::User,
            F::Image,
            F::TargetFilename,
            F::Hashes,
            F::IsExecutable,
            F::Archived,
        ],
        Category::FileChange => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::RuleName,
            F::UtcTime,
            F::ProcessGuid,
            F::ProcessId,
            F::Image,
            F::TargetFilename,
            F::CreationUtcTime,
            F::PreviousCreationUtcTime,
            F::User,
        ],
        // Kernel-File ETW events as Vigil maps them.
        Category::FileRename => &[
            F::EventID,
            F::Provider_Name,
            F::Channel,
            F::Computer,
            F::ProcessId,
            F::Image,
            F::User,
            F::SourceFilename,
            F::TargetFilename,
        ],
        Category::FileAccess => {
            &[F::EventID, F::Provider_Name, F::Channel, F::Computer, F::ProcessId, F::Image, F::User, F::FileName]
        }
    }
}

/// Whether events of `category` can carry `field`.
pub fn has_field(category: Category, field: Field) -> bool {
    fields_of(category).contains(&field)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT_LEVEL: &[Field] = &[Field::EventID, Field::Provider_Name, Field::Channel, Field::Computer];

    #[test]
    fn every_category_has_event_level_fields() {
        for c in Category::ALL {
            for f in EVENT_LEVEL {
                assert!(has_field(c, *f), "{c:?} lacks {f:?}");
            }
        }
        assert!(has_field(Category::ProcessCreation, Field::CommandLine));
        assert!(!has_field(Category::FileEvent, Field::CommandLine));
    }
}
